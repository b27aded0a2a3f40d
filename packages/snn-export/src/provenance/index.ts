/**
 * Provenance of an experiment: runtime environment, git state and a code snapshot, captured when
 * the experiment is created and stored under `metadata/` of its HDF5 file.
 *
 * @example
 * ```ts
 * import { captureProvenance, writeProvenance } from "./provenance/index.js";
 * const p = await captureProvenance({ snnExport: VERSION, h5wasm: "0.10.3", hdf5: "2.0.0" }, { git: { diffCap: 1 << 20 } });
 * writeProvenance(writer, p, { kind: "gzip", level: 4 });
 * ```
 */
export type {
  CodeFile, CodeIndexEntry, CodeSnapshot, GitChange, GitInfo, GitPending, GitState, GitUnavailable, Provenance, ProvenanceOptions,
  ProvenanceVersions, RuntimeInfo, StoredProvenance,
} from "./types.js";
export { captureRuntime, filterEnv, isoWithOffset, isSecretLikeName, redactArgv, DEFAULT_ENV_ALLOW_LIST, SECRET_NAME_PARTS } from "./runtime.js";
export { captureGit, parsePorcelainV2Z, projectRoot, DEFAULT_DIFF_CAP, DEFAULT_GIT_TIMEOUT_MS, MAX_CHANGED_FILES, type GitOptions } from "./git.js";
export { collectCodeSnapshot, DEFAULT_FILE_CAP, DEFAULT_TOTAL_CAP, SNAPSHOT_WARNING_CODE, type SnapshotOptions } from "./snapshot.js";
export { expandGlob, globMatch, hasGlob } from "./glob.js";
export { replaceHome, stripUrlCredentials } from "./paths.js";
export {
  addCodeFiles, appendCodeSnapshot, codeDatasetName, readCodeBytes, readCodeFile, readCodeIndex, writeGitInfo, writeProvenance,
  CODE_SNAPSHOT_GROUP, GIT_PENDING, type CodeSource,
} from "./store.js";
export { captureProvenance, resolveProvenanceOptions, startProvenanceCapture } from "./capture.js";
