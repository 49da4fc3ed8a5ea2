// The dashboard's line in `npm start`'s banner: where to open it.
export async function seed(demo) {
  const r = await fetch(`${demo.base}/`);
  if (!r.ok) throw new Error(`the dashboard (${demo.base}/) answered ${r.status}`);
  demo.print(`Dashboard:    ${demo.base}/  (sign up, or log in with the demo login above)`);
}
