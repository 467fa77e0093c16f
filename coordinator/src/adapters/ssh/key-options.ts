/**
 * The options field of an authorized_keys line (`restrict,command="…",farm-name="alice"`), parsed
 * like sshd does: comma-separated, names case-insensitive, values in double quotes with `\"` as
 * the only escape. The farm's own `farm-*` options may also be written unquoted
 * (`farm-max-builds=4`). Anything this door does not understand is an error, so that the caller
 * skips the whole line: an option we silently ignored (say `from=`) could grant more than its
 * author meant.
 */

export interface KeyOptions {
  /** OpenSSH's `restrict`: no pty, no forwarding, no rc (this door offers none of those anyway). */
  readonly restrict: boolean;
  readonly noPty: boolean;
  readonly noPortForwarding: boolean;
  readonly noAgentForwarding: boolean;
  readonly noX11Forwarding: boolean;
  readonly noUserRc: boolean;
  /** `command="…"`: run this instead of what the client asked for. */
  readonly command: string | undefined;
  /** `farm-name="alice"`: the principal's name. */
  readonly farmName: string | undefined;
  /** `farm-systems="x86_64-linux,aarch64-linux"`. */
  readonly farmSystems: readonly string[] | undefined;
  /** `farm-max-builds=4`. */
  readonly farmMaxBuilds: number | undefined;
}

export const NO_KEY_OPTIONS: KeyOptions = {
  restrict: false,
  noPty: false,
  noPortForwarding: false,
  noAgentForwarding: false,
  noX11Forwarding: false,
  noUserRc: false,
  command: undefined,
  farmName: undefined,
  farmSystems: undefined,
  farmMaxBuilds: undefined,
};

export type KeyOptionsResult = { readonly options: KeyOptions } | { readonly error: string };

const FLAGS = {
  restrict: 'restrict',
  'no-pty': 'noPty',
  'no-port-forwarding': 'noPortForwarding',
  'no-agent-forwarding': 'noAgentForwarding',
  'no-x11-forwarding': 'noX11Forwarding',
  'no-user-rc': 'noUserRc',
} as const satisfies Record<string, keyof KeyOptions>;

const VALUED = new Set(['command', 'farm-name', 'farm-systems', 'farm-max-builds']);
/** Only the farm's own options may go unquoted; OpenSSH's keep OpenSSH's syntax. */
const UNQUOTED_OK = new Set(['farm-name', 'farm-systems', 'farm-max-builds']);

/** Nix system names: `<arch>-<os>` (x86_64-linux, aarch64-darwin, armv7l-linux, i686-linux). */
const SYSTEM = /^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

interface RawOption {
  readonly name: string;
  readonly value: string | undefined;
  readonly quoted: boolean;
}

/** Splits `a,b="x,y",c=z` into options; undefined on an unterminated quote or a stray character. */
function splitOptions(text: string): RawOption[] | { error: string } {
  const out: RawOption[] = [];
  let i = 0;
  while (i < text.length) {
    let name = '';
    while (i < text.length && text[i] !== ',' && text[i] !== '=') name += text[i++];
    if (name === '') return { error: `empty option in '${text}'` };
    let value: string | undefined;
    let quoted = false;
    if (text[i] === '=') {
      i++;
      if (text[i] === '"') {
        quoted = true;
        i++;
        value = '';
        for (;;) {
          if (i >= text.length) return { error: `unterminated quote in option '${name}'` };
          const c = text[i++]!;
          if (c === '"') break;
          if (c === '\\' && text[i] === '"') {
            value += '"';
            i++;
          } else value += c;
        }
      } else {
        value = '';
        while (i < text.length && text[i] !== ',') {
          if (text[i] === '"') return { error: `stray quote in option '${name}'` };
          value += text[i++];
        }
      }
    }
    out.push({ name: name.toLowerCase(), value, quoted });
    if (i < text.length) {
      if (text[i] !== ',') return { error: `expected ',' after option '${name}'` };
      i++;
      if (i === text.length) return { error: 'trailing comma in the options' };
    }
  }
  return out;
}

function parseSystems(value: string): readonly string[] | undefined {
  const systems = value.split(',').map((s) => s.trim());
  if (systems.length === 0 || !systems.every((s) => SYSTEM.test(s))) return undefined;
  return [...new Set(systems)];
}

export function parseKeyOptions(text: string): KeyOptionsResult {
  const raw = splitOptions(text);
  if (!Array.isArray(raw)) return raw;
  const flags: Record<string, boolean> = {};
  const values = new Map<string, string>();
  for (const { name, value, quoted } of raw) {
    if (name in FLAGS) {
      if (value !== undefined) return { error: `option '${name}' takes no value` };
      flags[FLAGS[name as keyof typeof FLAGS]] = true;
      continue;
    }
    if (!VALUED.has(name)) return { error: `unknown option '${name}'` };
    if (value === undefined) return { error: `option '${name}' needs a value` };
    if (!quoted && !UNQUOTED_OK.has(name)) return { error: `the value of option '${name}' must be in double quotes` };
    if (values.has(name)) return { error: `option '${name}' is given twice` };
    values.set(name, value);
  }

  const farmName = values.get('farm-name');
  if (farmName !== undefined && (farmName.trim() === '' || farmName.length > 256 || CONTROL.test(farmName))) {
    return { error: `farm-name '${farmName}' must be 1-256 printable characters` };
  }
  const systemsText = values.get('farm-systems');
  const farmSystems = systemsText === undefined ? undefined : parseSystems(systemsText);
  if (systemsText !== undefined && farmSystems === undefined) {
    return { error: `farm-systems '${systemsText}' must be a comma-separated list of systems like x86_64-linux` };
  }
  const maxText = values.get('farm-max-builds');
  const farmMaxBuilds = maxText === undefined ? undefined : Number(maxText);
  if (maxText !== undefined && !(/^[0-9]+$/.test(maxText) && Number.isSafeInteger(farmMaxBuilds) && farmMaxBuilds! >= 1)) {
    return { error: `farm-max-builds '${maxText}' must be a whole number ≥ 1` };
  }
  const command = values.get('command');
  if (command !== undefined && CONTROL.test(command)) return { error: 'command="…" holds a control character' };

  return {
    options: {
      restrict: flags['restrict'] === true,
      noPty: flags['noPty'] === true,
      noPortForwarding: flags['noPortForwarding'] === true,
      noAgentForwarding: flags['noAgentForwarding'] === true,
      noX11Forwarding: flags['noX11Forwarding'] === true,
      noUserRc: flags['noUserRc'] === true,
      command,
      farmName: farmName?.trim(),
      farmSystems,
      farmMaxBuilds,
    },
  };
}
