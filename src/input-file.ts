import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { errnoCode, InputError } from "./engine/errors.js";
import { excerpt } from "./engine/safe-text.js";

// Reading a file the operator names (--config): only a regular file, only up to a bound,
// and never blocking. Opened non-blocking so a FIFO cannot hang the open; fstat on the
// opened descriptor (not the name) decides, so a file swapped in between cannot fool it;
// reads stop at the bound even if the file grows meanwhile (/proc files, a live log).

/**
 * 1 MiB: the full configuration with every key is under 2 KiB and a realistic plan with
 * comments under 20 KiB, so 1 MiB is 50× headroom, while parsing stays in milliseconds and
 * a wrong file (a log, an image, /dev/zero) is refused at once instead of parsed for minutes.
 */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

const OPEN_ERRORS: Record<string, string> = {
  ENOENT: "no such file",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
  EACCES: "permission denied",
  EPERM: "permission denied",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
  ENXIO: "it is a socket or a device without a reader",
};

export interface InputFileOptions {
  /** What the file is, for messages: "config file". */
  what: string;
  /** The flag that named it: "--config". */
  flag: string;
  hint: string;
  maxBytes?: number;
}

export function readInputFile(path: string, o: InputFileOptions): string {
  const max = o.maxBytes ?? MAX_INPUT_FILE_BYTES;
  const name = excerpt(path, 200);
  const refuse = (reason: string) =>
    new InputError(`${name}: cannot read the ${o.what} (${reason})`, o.hint);
  if (path === "") {
    throw new InputError(`${o.flag} "": the file name is empty`, o.hint);
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = errnoCode(err);
    throw refuse((code && OPEN_ERRORS[code]) ?? `error ${code ?? String(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw refuse(
        st.isDirectory()
          ? "it is a directory"
          : st.isFIFO()
            ? "it is a pipe (FIFO), not a regular file"
            : st.isCharacterDevice() || st.isBlockDevice()
              ? "it is a device, not a regular file"
              : st.isSocket()
                ? "it is a socket, not a regular file"
                : "not a regular file",
      );
    }
    if (st.size > max) throw refuse(`it is ${st.size} bytes, more than the ${max} allowed`);
    const buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, null);
      if (n === 0) break;
      off += n;
    }
    if (off > max) throw refuse(`it grew past the ${max} bytes allowed while being read`);
    const text = buf.subarray(0, off).toString("utf8");
    if (text.includes("\u0000")) throw refuse("it is binary (it holds NUL bytes), not text");
    return text;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = errnoCode(err);
    throw refuse((code && OPEN_ERRORS[code]) ?? `error ${code ?? String(err)}`);
  } finally {
    closeSync(fd);
  }
}
