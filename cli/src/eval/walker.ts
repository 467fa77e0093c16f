/**
 * The Nix function `nix eval --apply` runs over the evaluated attribute to find its derivations,
 * with the rule Hydra uses for `hydraJobs`:
 *   - a derivation (`type == "derivation"`) is a leaf: it is reported and not descended into;
 *   - any other attribute set is descended into, in attribute-name order, whether or not it has
 *     `recurseForDerivations` (so every package of `.#pkgsCross.aarch64` is found);
 *   - every other value (strings, numbers, booleans, lists, functions, null) is skipped;
 *   - the value at the root may be a function whose arguments all have defaults, or that has none
 *     (a `default.nix` taking `{ system ? … }` or `{ }`): it is called with `{}` as `nix-build` would.
 * Sets nested deeper than MAX_DEPTH are refused: a set that contains itself (`pkgs.pkgs`) would
 * otherwise never end. Forcing `drvPath` instantiates each `.drv` into the store.
 */
import { FarmError } from '@farm/common';

export const MAX_WALK_DEPTH = 32;

export const WALKER_EXPRESSION = `root:
let
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";
  callable = f: let a = builtins.functionArgs f; in builtins.isFunction f && builtins.all (n: a.\${n}) (builtins.attrNames a);
  top = if callable root then root { } else root;
  leaf = path: d: [{
    attr = path;
    name = d.name or "";
    system = d.system or "";
    drvPath = builtins.unsafeDiscardStringContext d.drvPath;
    outputs = builtins.listToAttrs (map (o: { name = o; value = builtins.unsafeDiscardStringContext d.\${o}.outPath; }) (d.outputs or [ "out" ]));
  }];
  walk = depth: path: v:
    if isDrv v then leaf path v
    else if builtins.isAttrs v then
      (if depth >= ${MAX_WALK_DEPTH}
        then throw "farm: attribute sets nested deeper than ${MAX_WALK_DEPTH} levels at '\${builtins.concatStringsSep "." path}' (a set that contains itself?)"
        else builtins.concatLists (map (n: walk (depth + 1) (path ++ [ n ]) v.\${n}) (builtins.attrNames v)))
    else [ ];
in walk 0 [ ] top`;

/** One derivation found by the walker. */
export interface EvaluatedRoot {
  /** The attribute path as the user would type it: the requested path plus the walked names. */
  readonly attrPath: string;
  readonly drvPath: string;
  /** The derivation's `name` attribute. */
  readonly name: string;
  readonly system: string;
  /** Output name → output path. */
  readonly outputs: Readonly<Record<string, string>>;
}

interface WalkerLeaf {
  attr: string[];
  name: string;
  system: string;
  drvPath: string;
  outputs: Record<string, string>;
}

/** Turns the walker's JSON into roots, prefixing each walked path with the requested one. */
export function decodeWalkerOutput(json: string, requestedAttrPath: string, installableText: string): EvaluatedRoot[] {
  let leaves: unknown;
  try {
    leaves = JSON.parse(json);
  } catch (e) {
    throw new FarmError('INTERNAL', `evaluating ${installableText}: nix printed output that is not JSON`, { installable: installableText }, { cause: e });
  }
  if (!Array.isArray(leaves)) throw new FarmError('INTERNAL', `evaluating ${installableText}: expected a JSON list from the walker`);
  return (leaves as WalkerLeaf[]).map((l) => ({
    attrPath: joinAttrPath(requestedAttrPath, l.attr),
    drvPath: l.drvPath,
    name: l.name,
    system: l.system,
    outputs: l.outputs,
  }));
}

/** `a.b` + [`c`, `x.y`] → `a.b.c."x.y"` (names that are not plain identifiers are quoted). */
export function joinAttrPath(prefix: string, names: readonly string[]): string {
  const rendered = names.map((n) => (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(n) ? n : JSON.stringify(n)));
  return [...(prefix === '' ? [] : [prefix]), ...rendered].join('.');
}
