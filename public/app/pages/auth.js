import { post } from "../api.js";
import { h, field, form } from "../dom.js";
import { loggedIn } from "../state.js";

export function signupPage(root) {
  const name = field("Name", { autocomplete: "name", required: true, maxlength: 100 });
  const email = field("Email", { type: "email", autocomplete: "email", required: true });
  const password = field("Password", {
    type: "password",
    autocomplete: "new-password",
    required: true,
    minlength: 8,
    maxlength: 128,
    hint: "8 to 128 characters; common passwords are refused.",
  });
  root.append(
    form("Sign up", [name, email, password], "Create account", async () => {
      await post("/api/v1/auth/register", { name: name.input.value, email: email.input.value, password: password.input.value });
      await loggedIn();
    }),
    h("p", {}, "Already have an account? ", h("a", { href: "#/login" }, "Log in")),
  );
}

export function loginPage(root) {
  const email = field("Email", { type: "email", autocomplete: "username", required: true });
  const password = field("Password", { type: "password", autocomplete: "current-password", required: true });
  root.append(
    form("Log in", [email, password], "Log in", async () => {
      await post("/api/v1/auth/login", { email: email.input.value, password: password.input.value });
      await loggedIn();
    }),
    h("p", {}, "New here? ", h("a", { href: "#/signup" }, "Create an account")),
  );
}
