/**
 * Typed errors of snn-export. Every error a caller can act on is an {@link SnnExportError} with a
 * stable `code`; use {@link isSnnExportError} to tell them apart.
 *
 * @example
 * ```ts
 * try { exporter.log({ timestep: 1 }); }
 * catch (err) { if (isSnnExportError(err, "NO_EPISODE")) exporter.startEpisode(); else throw err; }
 * ```
 */
export type ErrorCode =
  | "INVALID_NAME"
  | "INVALID_OPTION"
  | "INVALID_DATA"
  | "NO_EPISODE"
  | "EPISODE_OPEN"
  | "ALREADY_EXISTS"
  | "CLOSED"
  | "TIMESTEP_ORDER"
  | "SHAPE_MISMATCH"
  | "OUT_OF_RANGE"
  | "NOT_FOUND"
  | "NOT_HDF5"
  | "NOT_SNN_EXPORT"
  | "UNSUPPORTED_VERSION"
  | "HDF5_ERROR"
  | "CORRUPT"
  | "IO_ERROR";

/** Base class of every error snn-export throws on purpose. `code` says what kind it is. */
export class SnnExportError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SnnExportError";
    this.code = code;
  }
}

/** A call's arguments were not acceptable; nothing was written by that call. */
export class ValidationError extends SnnExportError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "ValidationError";
  }
}

/** A call came at the wrong time (no episode open, exporter closed, ...). */
export class StateError extends SnnExportError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "StateError";
  }
}

/** The HDF5 engine or the file system failed. */
export class StorageError extends SnnExportError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = "StorageError";
  }
}

/** A file could not be read as an snn-export experiment. */
export class FormatError extends SnnExportError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = "FormatError";
  }
}

/**
 * True when `err` is an {@link SnnExportError}, optionally of the given code.
 *
 * @example
 * ```ts
 * if (isSnnExportError(err, "CLOSED")) console.log("exporter already closed");
 * ```
 */
export function isSnnExportError(err: unknown, code?: ErrorCode): err is SnnExportError {
  return err instanceof SnnExportError && (code === undefined || err.code === code);
}
