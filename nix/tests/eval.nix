# Evaluates Flotilla's modules, from its flake's outputs, with nixpkgs' lib (vendored in
# nix/vendor) against the stub declarations in ./stubs, as `lib.evalModules` does for a real
# system: an option the stubs do not declare, a wrong type or a failed assertion fails.
#
#   platform: "nixos" | "darwin" | "home-manager"
#   system:   the host's system (the stub pkgs follow it: isDarwin, the default packages)
#   modules:  the configuration under test (paths or attribute sets)
#   flakeDir: the checkout whose flake.nix and nix/ are evaluated (a test may pass a copy)
{
  platform,
  system ? "x86_64-linux",
  modules ? [ ],
  flakeDir ? ../..,
}:
let
  lib = import ../vendor/nixpkgs-lib/lib;
  nixpkgs = import ./stub-nixpkgs.nix { inherit lib; };
  flake = import (flakeDir + "/flake.nix");
  self = flake.outputs { inherit self nixpkgs; };
  byPlatform = {
    nixos = [
      ./stubs/nixos.nix
      self.nixosModules.controller
      self.nixosModules.agent
    ];
    darwin = [
      ./stubs/darwin.nix
      self.darwinModules.agent
    ];
    home-manager = [
      ./stubs/home-manager.nix
      self.homeManagerModules.agent
    ];
  };
  evaluated = lib.evalModules {
    modules =
      byPlatform.${platform}
      ++ modules
      ++ [ { _module.args.pkgs = nixpkgs.legacyPackages.${system}; } ];
  };
  inherit (evaluated) config;
  failed = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
in
if failed != [ ] then
  throw "failed assertions:\n${lib.concatStringsSep "\n" failed}"
else
  {
    inherit config;
    packages = self.packages;
  }
