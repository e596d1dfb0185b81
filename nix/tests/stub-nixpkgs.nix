# A stand-in for the nixpkgs flake input, enough to evaluate Flotilla's flake without
# nixpkgs: the package recipe's inputs record what they are given instead of building.
# Derivations here are attribute sets with `type = "derivation"` and a made-up store path.
{ lib }:
let
  # The made-up store path hashes the name and `seed` (a generated file's text, a build
  # script), as a real one hashes its inputs: using the path evaluates what it was made from.
  fakeDerivation =
    name: seed: attrs:
    attrs
    // {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" (name + seed))}-${name}";
    };
  pkgsFor =
    system:
    let
      platform = {
        inherit system;
        isDarwin = lib.hasSuffix "-darwin" system;
        isLinux = lib.hasSuffix "-linux" system;
      };
      pkgs = {
        inherit lib;
        stdenv.hostPlatform = platform;
        callPackage =
          fn: overrides:
          let
            f = if builtins.isFunction fn then fn else import fn;
          in
          f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // overrides);
        # The file's text is kept, so tests can read what a module generated.
        writeText = name: text: fakeDerivation name text { inherit text; };
        runCommand = name: env: script: fakeDerivation name script (env // { inherit script; });
        # The source is not hashed: that would copy the checkout into the store.
        buildNpmPackage = args: fakeDerivation "${args.pname}-${args.version}" args.installPhase args;
        importNpmLock = {
          __functor = _: args: fakeDerivation "npm-deps" "" { inherit args; };
          npmConfigHook = fakeDerivation "npm-config-hook" "" { };
        };
        makeWrapper = fakeDerivation "make-wrapper-hook" "" { };
        nodejs_22 = fakeDerivation "nodejs-22.20.0" "" {
          meta.mainProgram = "node";
          passthru.python = fakeDerivation "python3" "" { };
        };
        git = fakeDerivation "git-2.50.1" "" { };
        openssh = fakeDerivation "openssh-10.0p2" "" { };
        util-linux = fakeDerivation "util-linux-2.41" "" { };
      };
    in
    pkgs;
in
{
  legacyPackages = lib.genAttrs [
    "x86_64-linux"
    "aarch64-linux"
    "x86_64-darwin"
    "aarch64-darwin"
  ] pkgsFor;
}
