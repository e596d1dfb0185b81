import type { StepOutcome, SystemStore } from './nix-store.js';

/** Why a system may run here, or why not. */
export type TrustOutcome = { ok: true; why: string } | Extract<StepOutcome, { ok: false }>;

/**
 * Only a system this host may run is activated or dry-activated: one signed by a key of
 * the agent's own config, or one of its own system generations (it ran here before: a
 * rollback). Nix's own check lets content-addressed paths through unsigned (see
 * closure-signature.ts), and a path already in the store was never checked at all, so the
 * agent checks the path it was asked for itself. Used by a deployment's fetch step and by
 * the preparation of a plan alike.
 */
export async function checkRunnable(
  store: Pick<SystemStore, 'generationOf' | 'checkSignature'>,
  profile: string,
  storePath: string,
): Promise<TrustOutcome> {
  const generation = await store.generationOf(profile, storePath);
  if (generation !== null) {
    return { ok: true, why: `${storePath} is generation ${generation} of ${profile}` };
  }
  const signed = await store.checkSignature(storePath);
  if (!signed.ok) return signed;
  return { ok: true, why: `${storePath} is signed by a trusted key` };
}
