# The user's nine hosts with Flotilla: the controller on csb1 behind Traefik, an agent on
# every NixOS host (csb1 included), and the three Macs, managed with standalone
# home-manager, as monitor-only hosts. Only the Flotilla parts are here: `./hosts/NAME` and
# `./home/USER.nix` stand for the configurations the repository already has.
{
  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.05";
    home-manager = {
      url = "github:nix-community/home-manager/release-25.05";
      inputs.nixpkgs.follows = "nixpkgs";
    };
    flotilla = {
      url = "github:OWNER/flotilla"; # where you get Flotilla from
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      nixpkgs,
      home-manager,
      flotilla,
      ...
    }:
    let
      # A NixOS host with its agent; `extra`: what else Flotilla puts on it.
      nixos =
        name: extra:
        nixpkgs.lib.nixosSystem {
          system = "x86_64-linux";
          modules = [
            ./hosts/${name}
            flotilla.nixosModules.agent
            ./flotilla/agent.nix
          ]
          ++ extra;
        };
      # A Mac's home-manager configuration with its agent in monitor mode.
      mac =
        {
          user,
          host,
          system,
        }:
        home-manager.lib.homeManagerConfiguration {
          pkgs = nixpkgs.legacyPackages.${system};
          modules = [
            ./home/${user}.nix
            flotilla.homeManagerModules.agent
            ./flotilla/mac.nix
            { services.flotilla.agent.host = host; }
          ];
        };
    in
    {
      nixosConfigurations = {
        # The controller's own host runs an agent too: it is deployed like any other.
        csb1 = nixos "csb1" [
          flotilla.nixosModules.controller
          ./flotilla/controller.nix
        ];
        csb0 = nixos "csb0" [ ];
        hsb0 = nixos "hsb0" [ ];
        hsb1 = nixos "hsb1" [ ];
        hsb8 = nixos "hsb8" [ ];
        # Builds for the fleet run here instead of on the small controller.
        gpc0 = nixos "gpc0" [ ./flotilla/builder.nix ];
      };

      # Adjust each system to the machine (Apple silicon: aarch64-darwin).
      homeConfigurations = {
        "markus@imac0" = mac {
          user = "markus";
          host = "imac0";
          system = "x86_64-darwin";
        };
        "mba@mba-imac-work" = mac {
          user = "mba";
          host = "mba-imac-work";
          system = "aarch64-darwin";
        };
        "mba@mba-mbp-work" = mac {
          user = "mba";
          host = "mba-mbp-work";
          system = "aarch64-darwin";
        };
      };
    };
}
