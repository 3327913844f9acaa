import { connect } from "node:net";

// HAProxy's runtime API over its admin socket: one connection per batch of commands
// (separated by ";"), answer read until HAProxy closes the connection. Bounded by a timeout.

const ERROR_ANSWER = /(No such|Unknown command|Invalid|Require|not found|can't|cannot|error)/i;

export async function haproxyCommand(
  socketPath: string,
  commands: readonly string[],
  timeoutMs = 2_000,
): Promise<string> {
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`HAProxy admin socket did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.end(`${commands.join("; ")}\n`));
    sock.on("data", (c: Buffer) => chunks.push(c));
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
  if (ERROR_ANSWER.test(answer)) {
    throw new Error(`HAProxy refused "${commands.join("; ")}": ${answer.trim()}`);
  }
  return answer;
}
