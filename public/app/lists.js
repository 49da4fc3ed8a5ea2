// Lists the API gives, shown as tables that reload in place.
import { get, listOf } from "./api.js";
import { h, clear, table } from "./dom.js";

/** The list at `path` as a table (see `table`; `names` as in `listOf`): `{el, load}`, where
 * `load()` fetches the list again and redraws the table in `el`. */
export function apiTable(path, caption, columns, empty, ...names) {
  const el = h("div");
  async function load() {
    const rows = listOf(await get(path), ...names);
    clear(el).append(table(caption, columns, rows, empty));
  }
  return { el, load };
}
