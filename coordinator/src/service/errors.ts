/**
 * One place where whatever a lower layer threw becomes a FarmError the callers can map: the nix
 * library's NixFormatError (bad store path, bad ATerm, bad NAR, derivation mismatch, …) is the
 * client's fault, so INVALID_ARGUMENT; FarmErrors pass through; anything else is a bug and stays
 * as it is (the transports turn it into INTERNAL and log it).
 */
import { FarmError } from '@farm/common';
import { isNixFormatError } from '@farm/nix';

export function asFarmError(e: unknown): unknown {
  if (e instanceof FarmError) return e;
  if (isNixFormatError(e)) return new FarmError('INVALID_ARGUMENT', e.message, { nixCode: e.code }, { cause: e });
  return e;
}

/** Runs `fn`, rethrowing its failure through asFarmError. */
export async function farmErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw asFarmError(e);
  }
}

export function invalid(message: string): FarmError {
  return new FarmError('INVALID_ARGUMENT', message);
}
