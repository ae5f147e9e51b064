# The infra component: container images of the services, a deployment shell
# and a NixOS module.
{ withSystem, ... }:
{
  perSystem = { pkgs, self', ... }: {
    packages.docker-images = pkgs.mkDerivation {
      name = "docker-images";
      backend = self'.packages.backend;
      frontend = self'.packages.frontend;
      buildScript = ''
        mkdir -p "$out"
        ln -s "$backend" "$out/backend"
        ln -s "$frontend" "$out/frontend"
      '';
    };

    devShells.infra = pkgs.mkShell {
      name = "infra-shell";
      packages = [ pkgs.terraform ];
      MONOREPO_COMPONENT = "infra";
      TF_IN_AUTOMATION = "1";
      TF_DATA_DIR = ".terraform";
      shellHook = ''
        export INFRA_HOOK=ran
      '';
    };
  };

  flake.nixosModules.infra = { pkgs, ... }: {
    environment.systemPackages = [
      (withSystem pkgs.system ({ self', ... }: self'.packages.docker-images))
    ];
  };
}
