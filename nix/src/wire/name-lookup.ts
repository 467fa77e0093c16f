/** Reverse lookup for the protocols' `as const` number tables (op → name for messages and errors). */
export function nameLookup<T extends Record<string, number>>(table: T): (value: number) => keyof T | undefined {
  const names = new Map<number, keyof T>(Object.entries(table).map(([k, v]) => [v, k as keyof T]));
  return (value) => names.get(value);
}
