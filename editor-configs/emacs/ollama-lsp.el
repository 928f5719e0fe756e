;;; ollama-lsp.el --- ollama-lsp with Eglot  -*- lexical-binding: t; -*-

;; Eglot (Emacs 29 built in, or elpa-eglot 1.9+ on Emacs 28) has no inline (ghost text)
;; completion: suggestions arrive through completion-at-point (textDocument/completion),
;; e.g. in the corfu or company popup. Eglot runs one server per major mode, so this
;; replaces the mode's usual server; use lsp-mode 10+ (which has lsp-inline-completion and
;; several servers per buffer) if you want both.
;;
;; Load it from your init file: (load "/path/to/editor-configs/emacs/ollama-lsp.el")

(require 'eglot)

(defvar ollama-lsp-settings
  '(:ollama (:model "codellama:7b-code" :completion (:debounceMs 150 :maxTokens 128)))
  "The `ollama' settings section, sent at start and on workspace/configuration.")

(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode js-mode typescript-ts-mode go-mode go-ts-mode)
               . ("ollama-lsp" :initializationOptions ,ollama-lsp-settings)))

(setq-default eglot-workspace-configuration ollama-lsp-settings)

(defun ollama-lsp--prefix-matching ()
  "Offer a suggestion only while the typed text is its beginning, in ollama-lsp's buffers.
Eglot matches candidates with the `flex' style first, which still finds \"return 2 * …\" after
\"rt\" (r…t): a popup that keeps its candidates while you type (corfu) would offer the
suggestion after a key that contradicts it, and accepting it would drop that key. A
suggestion is the line the model predicted, not a name to look up: once the typed text
leaves it, it is stale. Other servers' buffers keep their styles."
  (if (and eglot--managed-mode
           (equal (plist-get (eglot--server-info (eglot-current-server)) :name) "ollama-lsp"))
      (setq-local completion-category-overrides
                  (cons '(eglot (styles basic)) (default-value 'completion-category-overrides)))
    (kill-local-variable 'completion-category-overrides)))

(add-hook 'eglot-managed-mode-hook #'ollama-lsp--prefix-matching)

(defun ollama-lsp--command (command &rest arguments)
  "Run the server COMMAND with ARGUMENTS and return its JSON result."
  (jsonrpc-request (eglot--current-server-or-lose) :workspace/executeCommand
                   `(:command ,command :arguments ,(vconcat arguments))))

(defun ollama-lsp-select-model (name)
  "Make NAME the completion model (offers a pull when it is not installed)."
  (interactive
   (list (completing-read
          "Model: "
          (mapcar (lambda (m) (plist-get m :name)) (ollama-lsp--command "ollama.listModels")))))
  (ollama-lsp--command "ollama.selectModel" name)
  (message "ollama-lsp: completion model is %s" name))

(defun ollama-lsp-pull-model (name)
  "Pull NAME; Eglot shows the $/progress percentages in the mode line."
  (interactive "sPull model: ")
  (message "ollama-lsp: %s" (plist-get (ollama-lsp--command "ollama.pullModel" name) :status)))

(defun ollama-lsp-status ()
  "Show host, reachability, models and cache statistics."
  (interactive)
  (let ((s (ollama-lsp--command "ollama.status")))
    (message "ollama-lsp: %s %s, model %s, chat %s"
             (plist-get s :host)
             (if (eq (plist-get s :reachable) t) "reachable" "NOT reachable")
             (plist-get s :model) (plist-get s :chatModel))))

(provide 'ollama-lsp)
;;; ollama-lsp.el ends here
