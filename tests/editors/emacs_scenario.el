;;; emacs_scenario.el --- drive editor-configs/emacs/ollama-lsp.el in batch mode  -*- lexical-binding: t; -*-

;; Run by tests/editors/test_emacs.py: `emacs --batch -l emacs_scenario.el`. It loads the
;; user-facing config as a user would, lets Eglot start `ollama-lsp' (PATH and OLLAMA_HOST come
;; from the test), and records what a user would see into the JSON file $OLLAMA_TEST_OUT:
;; the buffer after completion-at-point, the messages of the select-model and status commands.
;; Any error is recorded too, so the test reports it instead of a bare exit code.

(require 'json)
(require 'subr-x)

(defvar ollama-test--result nil)

(defun ollama-test--put (key value)
  (push (cons key value) ollama-test--result))

(defun ollama-test--wait (predicate seconds what)
  "Let Emacs process events until PREDICATE holds; signal an error naming WHAT after SECONDS."
  (let ((deadline (+ (float-time) seconds)))
    (while (not (funcall predicate))
      (when (> (float-time) deadline)
        (error "Timed out after %ss waiting for %s" seconds what))
      (accept-process-output nil 0.05))))

(defun ollama-test--line (n)
  (save-excursion
    (goto-char (point-min))
    (forward-line (1- n))
    (buffer-substring-no-properties (line-beginning-position) (line-end-position))))

(defun ollama-test--complete-at (line)
  "Put point at the end of LINE and run `completion-at-point' as M-TAB would."
  (goto-char (point-min))
  (forward-line (1- line))
  (end-of-line)
  (completion-at-point))

(defun ollama-test--events ()
  "The Eglot events buffer's text (requests and notifications), for a failure's report."
  (when-let ((server (eglot-current-server)))
    (with-current-buffer (jsonrpc-events-buffer server)
      (buffer-substring-no-properties (max (point-min) (- (point-max) 6000)) (point-max)))))

(condition-case err
    (progn
      (load (getenv "OLLAMA_LSP_EL") nil t)
      (find-file (getenv "OLLAMA_TEST_FILE"))
      (python-mode)
      (apply #'eglot (eglot--guess-contact))
      (ollama-test--wait #'eglot-current-server 20 "Eglot to connect")
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
      (ollama-test--put 'line3 (ollama-test--line 3))
      (ollama-test--put 'ok t))
  (error
   (ollama-test--put 'error (error-message-string err))
   (ollama-test--put 'events (ignore-errors (ollama-test--events)))))

(with-temp-file (getenv "OLLAMA_TEST_OUT")
  (insert (json-encode ollama-test--result)))
(ignore-errors (eglot-shutdown (eglot-current-server)))
(kill-emacs 0)
;;; emacs_scenario.el ends here
