{
  description = "Flotilla: a fleet manager for NixOS hosts (controller, agent, CLI, and their modules)";

  # nixpkgs is used for the packages only: the modules take the host's own pkgs.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
        "x86_64-darwin"
        "aarch64-darwin"
      ];
      forAllSystems =
        f:
        builtins.listToAttrs (
          map (system: {
            name = system;
            value = f system;
          }) systems
        );
      # The modules' default packages: this flake's, for the host's system.
      packagesFor = system: self.packages.${system};
    in
    {
      packages = forAllSystems (
        system:
        let
          built = nixpkgs.legacyPackages.${system}.callPackage ./nix/package.nix { };
        in
        {
          inherit (built) controller agent cli;
          default = built.cli;
        }
      );

      overlays.default = import ./nix/overlay.nix;

      nixosModules.controller = import ./nix/modules/controller.nix { inherit packagesFor; };
      nixosModules.agent = import ./nix/modules/agent-nixos.nix { inherit packagesFor; };
      darwinModules.agent = import ./nix/modules/agent-darwin.nix { inherit packagesFor; };
      homeManagerModules.agent = import ./nix/modules/agent-home.nix { inherit packagesFor; };
    };
}
