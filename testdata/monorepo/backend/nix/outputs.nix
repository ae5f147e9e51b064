# The backend component: a Rust HTTP service.
{ ... }:
{
  perSystem = { pkgs, self', ... }: {
    packages.backend = pkgs.mkDerivation {
      name = "backend-1.4.0";
      src = ../src;
      cargoToml = ../Cargo.toml;
      buildInputs = [ pkgs.cargo ];
      buildScript = ''
        mkdir -p "$out/bin" "$out/share/backend"
        cp "$cargoToml" "$out/share/backend/Cargo.toml"
        cp -r "$src" "$out/share/backend/src"
        printf '#!/bin/bash\necho "backend listening on ''${BACKEND_PORT:-8080}"\n' > "$out/bin/backend"
        chmod +x "$out/bin/backend"
      '';
    };

    apps.backend = {
      type = "app";
      program = "${self'.packages.backend}/bin/backend";
    };

    checks.backend-test = pkgs.mkDerivation {
      name = "backend-test";
      buildInputs = [ self'.packages.backend ];
      buildScript = ''
        backend > "$out"
      '';
    };

    devShells.backend = pkgs.mkShell {
      name = "backend-shell";
      packages = [ pkgs.cargo pkgs.rustc ];
      MONOREPO_COMPONENT = "backend";
      BACKEND_PORT = "8080";
      RUST_LOG = "backend=debug";
      shellHook = ''
        export BACKEND_HOOK=ran
      '';
    };
  };
}
