# `flotilla.overlays.default`: the programs as pkgs.flotilla-controller, pkgs.flotilla-agent
# and pkgs.flotilla (the CLI), built with the pkgs they are added to.
final: _prev:
let
  built = final.callPackage ./package.nix { };
in
{
  flotilla-controller = built.controller;
  flotilla-agent = built.agent;
  flotilla = built.cli;
}
