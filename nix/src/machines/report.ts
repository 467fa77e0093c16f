/**
 * The message Nix 2.8's build hook prints when no machine can take a derivation
 * (build-remote.cc), reproduced so a farm can explain a refusal in the words Nix users know:
 *
 *   Failed to find a machine for remote build!
 *   derivation: <drv base name>
 *   required (system, features): (<system>, <features sorted, ", ">)
 *   <n> available machines:
 *   (systems, maxjobs, supportedFeatures, mandatoryFeatures)
 *   (<systems ", ">, <maxJobs>, <supported ", ">, <mandatory ", ">)   … one per machine
 */
import type { Machine } from './parse.js';

export function formatNoMachineMessage(drvBaseName: string, system: string, requiredFeatures: Iterable<string>, machines: readonly Machine[]): string {
  const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const lines = [
    'Failed to find a machine for remote build!',
    `derivation: ${drvBaseName}`,
    `required (system, features): (${system}, ${sorted(requiredFeatures).join(', ')})`,
    `${machines.length} available machines:`,
    '(systems, maxjobs, supportedFeatures, mandatoryFeatures)',
    ...machines.map((m) => `(${m.systems.join(', ')}, ${m.maxJobs}, ${m.supportedFeatures.join(', ')}, ${m.mandatoryFeatures.join(', ')})`),
  ];
  return lines.join('\n');
}
