export { parseInstallable, normaliseFlakeRef, type Installable, type ParseInstallableOptions } from './installable.js';
export { evaluateInstallable, evaluateInstallables, rootDrvPaths, type EvaluateOptions } from './evaluate.js';
export { WALKER_EXPRESSION, MAX_WALK_DEPTH, joinAttrPath, type EvaluatedRoot } from './walker.js';
export { buildUploadBundle, openBundleNar, bundleNarChunks, bundleItemPathInfo, type BundleItem, type UploadBundle, type BundleOptions } from './bundle.js';
export { dependencyOrder } from './dependency-order.js';
export { queryDrvClosure, PATH_INFO_BATCH, type StorePathInfo } from './path-infos.js';
export { runNix, nixErrorSummary, NIX_FEATURE_ARGS, type NixToolOptions, type NixRun } from './run-nix.js';
