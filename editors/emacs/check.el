;;; check.el --- eglot and per-buffer environments against monoflake -*- lexical-binding: t -*-
;; Run by check.sh in `emacs --batch'. It loads the Emacs snippets of
;; editors/README.md as written there, so the documentation is what is tested.

(require 'cl-lib)
(require 'eglot)
(require 'xref)

(defvar check-failures 0)
(defvar check-passes 0)

(defun check (name ok &optional detail)
  (if ok
      (progn (setq check-passes (1+ check-passes)) (princ (format "ok - %s\n" name)))
    (setq check-failures (1+ check-failures))
    (princ (format "not ok - %s%s\n" name (if detail (format ": %S" detail) "")))))

(defun check-wait (seconds pred)
  "Wait up to SECONDS for PRED, running timers and process output meanwhile."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(defconst check-print-component "printf %s \"$MONOREPO_COMPONENT\"")

(defun check-process-output ()
  (let ((out (generate-new-buffer " *out*")))
    (call-process "sh" nil out nil "-c" check-print-component)
    (prog1 (with-current-buffer out (buffer-string)) (kill-buffer out))))

(defun check-shell-command-output ()
  (let ((out (generate-new-buffer " *out*")))
    (shell-command check-print-component out)
    (prog1 (with-current-buffer out (buffer-string)) (kill-buffer out))))

(defun check-compile-output ()
  (let* ((compilation-buffer-name-function (lambda (_) "*check-compile*"))
         (buffer (compile (concat check-print-component "; echo; echo done"))))
    (check-wait 10 (lambda () (not (get-buffer-process buffer))))
    (with-current-buffer buffer
      (goto-char (point-min))
      (forward-line 4)
      (prog1 (buffer-substring (point) (line-end-position)) (kill-buffer)))))

(defun check-readme-snippets ()
  "The elisp blocks of the Emacs section of editors/README.md."
  (with-temp-buffer
    (insert-file-contents (expand-file-name "../README.md" (file-name-directory load-file-name)))
    (goto-char (point-min))
    (search-forward "## Emacs")
    (let (blocks)
      (while (re-search-forward "^```elisp\n" nil t)
        (let ((start (point)))
          (search-forward "\n```")
          (push (buffer-substring start (match-beginning 0)) blocks)))
      (nreverse blocks))))

(let ((repo (getenv "MONOFLAKE_MONOREPO"))
      (bin-dir (file-name-directory (getenv "MONOFLAKE_BIN"))))
  ;; No nix-mode package here: a bare major mode of that name stands in.
  (define-derived-mode nix-mode prog-mode "Nix")
  (add-to-list 'auto-mode-alist '("\\.nix\\'" . nix-mode))
  (setq exec-path (cons bin-dir exec-path))
  (setenv "PATH" (concat bin-dir ":" (getenv "PATH")))
  (dolist (form (check-readme-snippets))
    (eval (car (read-from-string (concat "(progn " form ")"))) t))
  (check "README snippets register monoflake with eglot"
         (assoc '(nix-mode nix-ts-mode) eglot-server-programs))

  ;; Language server: open a file, let the README's eglot-ensure hook start it.
  (find-file (expand-file-name "frontend/nix/outputs.nix" repo))
  ;; eglot-ensure starts the server after the current command; batch mode
  ;; runs no commands, so end one by hand.
  (run-hooks 'post-command-hook)
  (check "eglot connects"
         (check-wait 20 (lambda () (and (eglot-current-server)
                                        (eglot--server-capable :definitionProvider)))))
  (goto-char (point-min))
  (search-forward "self'.packages.backend")
  (backward-char 3)
  (xref-find-definitions (xref-backend-identifier-at-point (xref-find-backend)))
  (check "definition jumps to backend/nix/outputs.nix"
         (check-wait 10 (lambda () (equal (buffer-file-name)
                                          (expand-file-name "backend/nix/outputs.nix" repo))))
         (buffer-file-name))
  (let ((want (save-excursion (goto-char (point-min)) (search-forward "packages.backend =")
                              (line-number-at-pos))))
    (check "definition lands on packages.backend" (= (line-number-at-pos) want)
           (list (line-number-at-pos) want)))

  ;; Per-buffer environments: the README's find-file-hook.
  (let ((backend (find-file-noselect (expand-file-name "backend/src/main.rs" repo)))
        (frontend (find-file-noselect (expand-file-name "frontend/src/index.js" repo)))
        (top (find-file-noselect (expand-file-name "flake.nix" repo))))
    (dolist (case `((,backend "backend") (,frontend "frontend") (,top "")))
      (with-current-buffer (car case)
        (let ((name (buffer-name)) (want (cadr case)))
          (check (format "%s: a process started from the buffer sees %S" name want)
                 (equal (check-process-output) want) (check-process-output))
          (check (format "%s: M-! sees %S" name want)
                 (equal (check-shell-command-output) want) (check-shell-command-output))
          (check (format "%s: M-x compile sees %S" name want)
                 (equal (check-compile-output) want) (check-compile-output)))))
    (with-current-buffer backend
      (check "exec-path starts with the devShell"
             (string-match-p "-cargo/bin" (car exec-path)) (car exec-path)))))

(ignore-errors (eglot-shutdown-all))
(princ (format "%d passed, %d failed\n" check-passes check-failures))
(kill-emacs (if (> check-failures 0) 1 0))
