// What the openid-client scripts in this folder share: openid-client itself, loaded
// from the folder in OPENID_CLIENT_PREFIX (an `npm install --prefix` folder, so nothing
// is installed next to these files), and the line protocol with the Python test:
//   receive()  the next JSON object on stdin
//   send(m)    one JSON object on stdout
//   run(main)  exit 0 when main() returns; on a throw, send {"error", "name", "code",
//              "stack"} and exit 1

import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";

const prefix = process.env.OPENID_CLIENT_PREFIX;
const entry = createRequire(join(prefix, "package.json")).resolve("openid-client");
export const client = await import(pathToFileURL(entry).href);

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

export async function receive() {
  const { value, done } = await lines.next();
  if (done) throw new Error("standard input closed");
  return JSON.parse(value);
}

export function send(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export async function run(main) {
  try {
    await main();
    process.exit(0);
  } catch (err) {
    send({ error: String(err?.message ?? err), name: err?.name, code: err?.code, stack: err?.stack });
    process.exit(1);
  }
}
