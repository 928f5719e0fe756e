;;; emacs_scenario.el --- drive editor-configs/emacs/ollama-lsp.el in batch mode  -*- lexical-binding: t; -*-

;; Run by tests/editors/test_emacs.py: `emacs --batch -l emacs_scenario.el'. It loads the
;; user-facing config as a user would, lets Eglot start `ollama-lsp' (PATH and OLLAMA_HOST come
;; from the test), and records what a user would see into the JSON file $OLLAMA_TEST_OUT:
;; the buffer after completion-at-point, the messages of the select-model and status commands.
;; Any error is recorded too, so the test reports it instead of a bare exit code.

(load (expand-file-name "emacs_helpers.el" (file-name-directory load-file-name)) nil t)

(defun ollama-test--complete-at (line)
  "Put point at the end of LINE and run `completion-at-point' as M-TAB would."
  (ollama-test--goto-eol line)
  (completion-at-point))

(ollama-test-run
 (ollama-test--start)
 (ollama-test--put 'server (plist-get (eglot--server-info (eglot-current-server)) :name))

 ;; completion-at-point: the one candidate is inserted (its textEdit applied on exit).
 (ollama-test--complete-at 2)
 (ollama-test--wait (lambda () (not (string= (ollama-test--line 2) "    "))) 10
                    "the suggestion to be inserted")
 (ollama-test--put 'line2 (ollama-test--line 2))

 ;; The palette-less commands: select a model, then ask for the status.
 (ollama-test--put 'select (ollama-lsp-select-model "qwen2.5-coder:1.5b-base"))
 (ollama-test--put 'status (ollama-lsp-status))
 (ollama-test--complete-at 3) ; the next completion uses the selected model
 (ollama-test--wait (lambda () (not (string= (ollama-test--line 3) ""))) 10
                    "the second suggestion")
 (ollama-test--put 'line3 (ollama-test--line 3)))

;;; emacs_scenario.el ends here
