/**
 * `farm drv show FILE.drv...`: `nix show-derivation`-shaped JSON for `.drv` files, plus a `farm`
 * object per derivation with the drv path and output paths recomputed from the file's contents
 * and whether each matches what the file claims. Input derivations (needed for hashDerivationModulo)
 * are read from the directory next to each file, or from --store-dir / --root for a chroot store.
 * All files are processed before anything is printed, so a bad file leaves stdout empty.
 */
import { Command, Option } from 'clipanion';

export class DrvShowCommand extends Command {
  static override paths = [['drv', 'show']];

  static override usage = Command.Usage({
    category: 'Derivations',
    description: 'print .drv files as `nix show-derivation` JSON and check their store paths',
    details: `
      Parses each \`.drv\` file strictly and prints one JSON object keyed by drv path, in the shape
      of Nix 2.8's \`nix show-derivation\` (outputs, inputSrcs, inputDrvs, system, builder, args,
      env). Each entry also has a \`farm\` object: the drv path and every output path recomputed
      from the file's contents (hashDerivationModulo), each with \`"matches": true/false\` saying
      whether it equals what the file claims (its own file name, its output paths).

      Input derivations are needed to recompute input-addressed output paths. They are read by
      base name from the directory holding each FILE (so files in /nix/store just work), or from
      \`--store-dir DIR\` (a directory of store entries), or from \`--root DIR\` (a chroot store
      such as \`nix-instantiate --store DIR\` makes: entries live in DIR/nix/store).

      A FILE whose name is not a store path base name (\`<hash>-<name>.drv\`) is keyed by its
      recomputed drv path and its name is taken from the \`name\` env variable.

      On a malformed file or a missing input derivation nothing is printed on stdout, one line
      \`farm drv show: <file>: <message naming the field or byte offset>\` goes to stderr and the
      exit status is 1.
    `,
    examples: [
      ['Show a derivation from the local store', '$0 drv show /nix/store/cs7m6f14f03rv602mc2nmkkrcj445b32-needs-farm-feature.drv'],
      ['Check several derivations of a chroot store', '$0 drv show --root /tmp/st /tmp/st/nix/store/*.drv'],
      ['Check a downloaded .drv whose inputs sit in ./drvs', '$0 drv show --store-dir ./drvs ./upload.drv'],
    ],
  });

  storeDir = Option.String('--store-dir', {
    description: 'directory holding input derivations by base name (default: the directory of each FILE)',
  });

  root = Option.String('--root', { description: 'chroot store root: input derivations are read from ROOT/nix/store' });

  files = Option.Rest({ required: 1 });

  override async execute(): Promise<number> {
    const { showDerivations } = await import('../tools/drv-show.js');
    return showDerivations({ storeDir: this.storeDir, root: this.root, files: this.files, stdout: this.context.stdout, stderr: this.context.stderr });
  }
}
