/**
 * The web page of a commit, when the repository is on GitHub (https, ssh or scp-like
 * `git@github.com:owner/repo.git`); null for any other host, whose URL scheme we do not know.
 */
export function commitLink(
  repositoryUrl: string | null | undefined,
  sha: string | null,
): string | null {
  if (!repositoryUrl || !sha || !/^[0-9a-f]{7,64}$/i.test(sha)) return null;
  const match =
    /^(?:https:\/\/|ssh:\/\/git@|git@)github\.com[/:]([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(
      repositoryUrl,
    );
  if (!match) return null;
  return `https://github.com/${match[1]}/${match[2]}/commit/${sha}`;
}
