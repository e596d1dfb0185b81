# The type of every option that names a secret: the path of a file read at run time. A
# string, so Nix never copies the file into the store (a path literal like ./token would
# be, and the store is world-readable); absolute, and outside the store.
{ lib }:
{
  secretPath = lib.types.addCheck lib.types.str (
    path: lib.hasPrefix "/" path && !lib.hasPrefix "${builtins.storeDir}/" path
  )
  // {
    name = "secretPath";
    description = "absolute path of a secret file outside the Nix store (a string, not a Nix path)";
  };
}
