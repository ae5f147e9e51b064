{
  description = "The frontend app, a flake of its own that uses the backend flake";

  inputs.lib.url = "path:../lib";
  inputs.lib.flake = false;
  inputs.backend.url = "path:../backend";
  inputs.backend.inputs.lib.follows = "lib";

  outputs = { self, lib, backend }:
    let
      pkgs = import "${lib}/pkgs.nix" "x86_64-linux";
    in
    {
      packages.x86_64-linux.default = pkgs.mkDerivation {
        name = "frontend-2.0.0";
        src = ./src;
        buildInputs = [ pkgs.nodejs ];
        buildScript = ''
          mkdir -p "$out/share/frontend"
          cp -r "$src" "$out/share/frontend/src"
        '';
      };

      devShells.x86_64-linux.default = pkgs.mkShell {
        name = "frontend-shell";
        packages = [ pkgs.nodejs ];
        MONOREPO_COMPONENT = "frontend";
        FRONTEND_PORT = "3000";
        BACKEND_BIN = "${backend.packages.x86_64-linux.default}/bin/backend";
        shellHook = ''
          export FRONTEND_HOOK=ran
        '';
      };
    };
}
