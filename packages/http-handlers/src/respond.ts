import { STATUS_CODES } from 'node:http';
import type { Readable, Writable } from 'node:stream';
import { HTTP_ERRORS, type HttpErrorCode } from './errors.js';

/**
 * The slice of a request the handlers use. Both `http.IncomingMessage` and
 * `http2.Http2ServerRequest` fit, so https-secure mounts the same handler on
 * HTTP/2.
 */
export interface HttpRequest extends Readable {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: string[];
  readonly socket: {
    readonly remoteAddress?: string | undefined;
    readonly remotePort?: number | undefined;
    readonly remoteFamily?: string | undefined;
    readonly localAddress?: string | undefined;
    readonly localPort?: number | undefined;
    readonly writableEnded?: boolean;
  };
}

/** The slice of a response the handlers use (`http.ServerResponse` or `http2.Http2ServerResponse`). */
export interface HttpResponse extends Writable {
  statusCode: number;
  readonly headersSent: boolean;
  writeHead(status: number, headers?: Record<string, string | number>): unknown;
  /** `100 Continue` (both Node's HTTP/1 and HTTP/2 responses have it). */
  writeContinue?(): void;
}

export type Headers = Record<string, string | number>;

/** Serialises an error body; the codes are few and fixed, so this is not a hot path. */
export function errorBody(
  code: HttpErrorCode,
  message?: string,
  extra?: Record<string, string>,
): string {
  const { status, message: fallback } = HTTP_ERRORS[code];
  return `${JSON.stringify({ error: message ?? fallback, code, status, ...extra })}\n`;
}

/** A raw HTTP/1.1 error response, for the server's 'clientError' hook where no response object exists. */
export function rawErrorResponse(code: HttpErrorCode, extra = ''): string {
  const { status } = HTTP_ERRORS[code];
  const body = errorBody(code);
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    `${extra}Connection: close\r\n\r\n` +
    body
  );
}

export const JSON_TYPE = 'application/json; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
