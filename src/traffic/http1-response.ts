// An incremental HTTP/1.1 response parser for the load worker's lean client: it finds
// where one response ends (RFC 9112 §6.3: no body for HEAD, 1xx, 204 and 304; chunked;
// Content-Length; else until the connection closes) and reads the status and whether the
// connection may be reused. It keeps nothing of the response but counters: header values
// other than Content-Length, Transfer-Encoding and Connection are never decoded, the body
// is skipped. A malformed response is an error (class "other"), never a guess.

const CR = 0x0d;
const LF = 0x0a;
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
/** The largest response head accepted (Node's default limit is 16 KiB; be generous). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Largest chunk size read (hex digits): far beyond any real chunk, below 2^53. */
const MAX_CHUNK = 2 ** 40;

// states
const HEAD = 0;
const LENGTH = 1;
const UNTIL_CLOSE = 2;
const CH_SIZE = 3;
const CH_EXT = 4;
const CH_SIZE_LF = 5;
const CH_DATA = 6;
const CH_DATA_CR = 7;
const CH_DATA_LF = 8;
const TR_START = 9;
const TR_LINE = 10;
const TR_LINE_LF = 11;
const TR_END_LF = 12;
const DONE = 13;

export class ResponseParseError extends Error {
  readonly code = "HPE_INVALID_RESPONSE";
}

const fail = (what: string): never => {
  throw new ResponseParseError(`malformed HTTP response: ${what}`);
};

/** True when buf[at, at+name.length) equals `name` (lower-case ASCII), ignoring case. */
function nameIs(buf: Buffer, at: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) if ((buf[at + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** The comma-separated value buf[from, to) has this token (lower-case), ignoring case and OWS. */
function hasToken(buf: Buffer, from: number, to: number, token: string, last = false): boolean {
  let found = false;
  let i = from;
  while (i < to) {
    while (i < to && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x2c)) i++;
    const s = i;
    while (i < to && buf[i] !== 0x2c) i++;
    let e = i;
    while (e > s && (buf[e - 1] === 0x20 || buf[e - 1] === 0x09)) e--;
    if (e === s) continue;
    found = nameIs(buf, s, e - s, token);
    if (found && !last) return true;
  }
  return found;
}

export class Http1ResponseParser {
  /** A byte of the current response has arrived (for telling a keep-alive race). */
  started = false;
  /** The final (non-1xx) status code, once its head is read. */
  status = 0;
  /** After a complete response: the connection may carry the next request. */
  keepAlive = true;
  private state = HEAD;
  private noBody = false;
  private remaining = 0;
  private digits = 0;
  /** An incomplete head carried over from earlier reads (copied: read buffers are reused). */
  private carry: Buffer | null = null;

  /** Expects the response to a new request (`head`: a HEAD request, whose answer has no body). */
  reset(head: boolean): void {
    this.started = false;
    this.status = 0;
    this.keepAlive = true;
    this.state = HEAD;
    this.noBody = head;
    this.carry = null;
  }

  /** The connection closed: whether that ends the response (a body delimited by the close). */
  closeCompletes(): boolean {
    return this.state === UNTIL_CLOSE;
  }

  /**
   * Feeds buf[start, end). Returns the offset just past the end of the response once it is
   * complete, -1 while more bytes are needed; throws a ResponseParseError when malformed.
   */
  feed(buf: Buffer, start: number, end: number): number {
    if (start < end) this.started = true;
    let pos = start;
    while (pos < end || this.state === DONE) {
      switch (this.state) {
        case HEAD:
          pos = this.feedHead(buf, pos, end);
          if (pos < 0) return -1;
          break;
        case LENGTH: {
          const take = Math.min(this.remaining, end - pos);
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.state = DONE;
          break;
        }
        case UNTIL_CLOSE:
          return -1;
        case CH_DATA: {
          const take = Math.min(this.remaining, end - pos);
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.state = CH_DATA_CR;
          break;
        }
        case DONE:
          return pos;
        default:
          this.chunkByte(buf[pos]!);
          pos++;
      }
    }
    return this.state === DONE ? pos : -1;
  }

  /** Reads a head from buf[pos, end) (plus what was carried); returns where the body starts, -1 for more. */
  private feedHead(buf: Buffer, pos: number, end: number): number {
    let data = buf;
    let from = pos;
    let carried = 0;
    if (this.carry) {
      carried = this.carry.length;
      data = Buffer.concat([this.carry, buf.subarray(pos, end)]);
      from = 0;
      end = data.length;
    }
    // Search only the bytes given (a reused read buffer holds stale bytes past `end`).
    const searchFrom = Math.max(from, from + carried - 3);
    const i = (end - searchFrom >= 4 ? data.subarray(searchFrom, end) : EMPTY).indexOf(CRLFCRLF);
    if (i < 0) {
      if (end - from > MAX_HEAD_BYTES) fail(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      this.carry = Buffer.from(data.subarray(from, end));
      return -1;
    }
    const headEnd = searchFrom + i;
    this.carry = null;
    this.parseHead(data, from, headEnd);
    // Where the body starts, as an offset into `buf`.
    return pos + (headEnd + 4 - from - carried);
  }

  private parseHead(buf: Buffer, s: number, headEnd: number): void {
    // "HTTP/1.x SSS"
    if (
      headEnd - s < 12 ||
      buf[s] !== 0x48 ||
      buf[s + 1] !== 0x54 ||
      buf[s + 2] !== 0x54 ||
      buf[s + 3] !== 0x50 ||
      buf[s + 4] !== 0x2f ||
      buf[s + 5] !== 0x31 ||
      buf[s + 6] !== 0x2e ||
      buf[s + 8] !== 0x20
    ) {
      fail("no HTTP/1.x status line");
    }
    const minor = buf[s + 7]! - 0x30;
    const d0 = buf[s + 9]! - 0x30;
    const d1 = buf[s + 10]! - 0x30;
    const d2 = buf[s + 11]! - 0x30;
    if (minor < 0 || minor > 9 || d0 < 1 || d0 > 9 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) {
      fail("bad status line");
    }
    const status = d0 * 100 + d1 * 10 + d2;
    let keepAlive = minor >= 1;
    let length = -1;
    let chunked = false;
    let otherCoding = false;
    let p = buf.indexOf(LF, s) + 1;
    while (p > 0 && p < headEnd + 2) {
      const eol = buf.indexOf(CR, p);
      const lineEnd = eol < 0 || eol > headEnd ? headEnd : eol;
      let colon = p;
      while (colon < lineEnd && buf[colon] !== 0x3a) colon++;
      if (colon === lineEnd) {
        // obsolete line folding (RFC 9112 §5.2) or garbage: refuse, as Node's parser does
        fail("a header line without a colon");
      }
      let v = colon + 1;
      while (v < lineEnd && (buf[v] === 0x20 || buf[v] === 0x09)) v++;
      const len = colon - p;
      const c0 = buf[p]! | 0x20;
      if (c0 === 0x63 /* c */) {
        if (nameIs(buf, p, len, "content-length")) {
          let n = 0;
          let seen = 0;
          let q = v;
          for (; q < lineEnd; q++) {
            const d = buf[q]! - 0x30;
            if (d < 0 || d > 9) break;
            n = n * 10 + d;
            seen++;
          }
          while (q < lineEnd && (buf[q] === 0x20 || buf[q] === 0x09)) q++;
          if (seen === 0 || q !== lineEnd || n > Number.MAX_SAFE_INTEGER)
            fail("bad Content-Length");
          if (length !== -1 && length !== n) fail("conflicting Content-Length headers");
          length = n;
        } else if (nameIs(buf, p, len, "connection")) {
          if (hasToken(buf, v, lineEnd, "close")) keepAlive = false;
          else if (hasToken(buf, v, lineEnd, "keep-alive")) keepAlive = true;
        }
      } else if (c0 === 0x74 /* t */ && nameIs(buf, p, len, "transfer-encoding")) {
        if (hasToken(buf, v, lineEnd, "chunked", true)) chunked = true;
        else otherCoding = true;
      }
      p = lineEnd + 2;
    }
    if (status < 200) {
      // 101 would switch protocols: nothing this client asked for.
      if (status === 101) fail("unexpected 101 Switching Protocols");
      this.state = HEAD; // an interim answer (100, 103): the final one follows
      return;
    }
    this.status = status;
    this.keepAlive = keepAlive;
    if (this.noBody || status === 204 || status === 304) {
      this.state = DONE;
    } else if (chunked && !otherCoding) {
      this.state = CH_SIZE;
      this.remaining = 0;
      this.digits = 0;
    } else if (otherCoding || chunked) {
      // a transfer coding that does not end in chunked: the body ends with the connection
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    } else if (length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? DONE : LENGTH;
    } else {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    }
  }

  /** One byte of chunked framing (sizes, extensions, CRLFs, trailers); data is skipped in bulk. */
  private chunkByte(b: number): void {
    switch (this.state) {
      case CH_SIZE: {
        const h = hexValue(b);
        if (h >= 0) {
          this.remaining = this.remaining * 16 + h;
          if (++this.digits > 10 || this.remaining > MAX_CHUNK) fail("chunk size too large");
        } else if (this.digits > 0 && (b === 0x3b || b === 0x20 || b === 0x09)) {
          this.state = CH_EXT;
        } else if (this.digits > 0 && b === CR) {
          this.state = CH_SIZE_LF;
        } else {
          fail("bad chunk size");
        }
        return;
      }
      case CH_EXT:
        if (b === CR) this.state = CH_SIZE_LF;
        else if (b === LF) fail("bad chunk extension");
        return;
      case CH_SIZE_LF:
        if (b !== LF) fail("bad chunk size line");
        this.state = this.remaining === 0 ? TR_START : CH_DATA;
        return;
      case CH_DATA_CR:
        if (b !== CR) fail("chunk longer than its size");
        this.state = CH_DATA_LF;
        return;
      case CH_DATA_LF:
        if (b !== LF) fail("chunk longer than its size");
        this.state = CH_SIZE;
        this.remaining = 0;
        this.digits = 0;
        return;
      case TR_START:
        this.state = b === CR ? TR_END_LF : TR_LINE;
        return;
      case TR_LINE:
        if (b === CR) this.state = TR_LINE_LF;
        return;
      case TR_LINE_LF:
        if (b !== LF) fail("bad trailer line");
        this.state = TR_START;
        return;
      case TR_END_LF:
        if (b !== LF) fail("bad end of chunked body");
        this.state = DONE;
        return;
    }
  }
}

const EMPTY = Buffer.alloc(0);

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const l = b | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}
