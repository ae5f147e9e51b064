{
  description = "The backend service, a flake of its own";

  inputs.lib.url = "path:../lib";
  inputs.lib.flake = false;

  outputs = { self, lib }:
    let
      pkgs = import "${lib}/pkgs.nix" "x86_64-linux";
    in
    {
      packages.x86_64-linux.default = pkgs.mkDerivation {
        name = "backend-1.4.0";
        src = ./src;
        buildInputs = [ pkgs.cargo ];
        buildScript = ''
          mkdir -p "$out/bin" "$out/share/backend"
          cp -r "$src" "$out/share/backend/src"
          printf '#!/bin/bash\necho "backend listening on ''${BACKEND_PORT:-8080}"\n' > "$out/bin/backend"
          chmod +x "$out/bin/backend"
        '';
      };

      devShells.x86_64-linux.default = pkgs.mkShell {
        name = "backend-shell";
        packages = [ pkgs.cargo pkgs.rustc ];
        MONOREPO_COMPONENT = "backend";
        BACKEND_PORT = "8080";
        shellHook = ''
          export BACKEND_HOOK=ran
        '';
      };
    };
}
