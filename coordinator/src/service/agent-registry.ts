/**
 * The agents this coordinator run knows: what they said at registration and when it last heard
 * from them (any request counts). In memory only — after a coordinator restart agents get
 * NOT_FOUND on their next heartbeat and register again, listing the leases they still hold.
 */
import type { AgentCapabilities } from '../core/routing.js';

export interface AgentEntry {
  readonly agentId: string;
  readonly host: string;
  readonly version: string;
  readonly capabilities: AgentCapabilities;
  readonly registeredMs: number;
  lastSeenMs: number;
  lastHeartbeatMs: number;
  draining: boolean;
}

export class AgentRegistry {
  private readonly agents = new Map<string, AgentEntry>();

  get(agentId: string): AgentEntry | undefined {
    return this.agents.get(agentId);
  }

  has(agentId: string): boolean {
    return this.agents.has(agentId);
  }

  set(entry: AgentEntry): void {
    this.agents.set(entry.agentId, entry);
  }

  delete(agentId: string): void {
    this.agents.delete(agentId);
  }

  touch(agentId: string, now: number): AgentEntry | undefined {
    const a = this.agents.get(agentId);
    if (a !== undefined) a.lastSeenMs = Math.max(a.lastSeenMs, now);
    return a;
  }

  /** Agents not heard from for more than `leaseMs`. */
  silentSince(now: number, leaseMs: number): AgentEntry[] {
    return [...this.agents.values()].filter((a) => now - a.lastSeenMs > leaseMs);
  }

  all(): AgentEntry[] {
    return [...this.agents.values()].sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0));
  }
}
