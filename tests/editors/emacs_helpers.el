;;; emacs_helpers.el --- what the Emacs scenarios share  -*- lexical-binding: t; -*-

;; Loaded by the scenario files that tests/editors/test_emacs*.py run in `emacs --batch': record
;; results for $OLLAMA_TEST_OUT, wait on conditions (never fixed sleeps), read lines, start
;; Eglot on the test file with editor-configs/emacs/ollama-lsp.el loaded as a user would.

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

(defun ollama-test--goto-eol (line)
  (goto-char (point-min))
  (forward-line (1- line))
  (end-of-line))

(defun ollama-test--events ()
  "The Eglot events buffer's text (requests and notifications), for a failure's report."
  (when-let ((server (eglot-current-server)))
    (with-current-buffer (jsonrpc-events-buffer server)
      (buffer-substring-no-properties (max (point-min) (- (point-max) 6000)) (point-max)))))

(defun ollama-test--start ()
  "Load the user's config, open the test file and connect Eglot to ollama-lsp."
  (load (getenv "OLLAMA_LSP_EL") nil t)
  (find-file (getenv "OLLAMA_TEST_FILE"))
  (python-mode)
  (apply #'eglot (eglot--guess-contact))
  (ollama-test--wait #'eglot-current-server 20 "Eglot to connect")
  ;; `eglot-managed-mode-hook' (where the config adjusts completion) runs once the server is up.
  (ollama-test--wait (lambda () (bound-and-true-p eglot--managed-mode)) 20 "Eglot to manage the buffer"))

(defmacro ollama-test-run (&rest body)
  "Run BODY, record `ok' or the error and Eglot's events, write $OLLAMA_TEST_OUT and exit."
  `(progn
     (condition-case err
         (progn ,@body (ollama-test--put 'ok t))
       (error
        (ollama-test--put 'error (error-message-string err))
        (ollama-test--put 'events (ignore-errors (ollama-test--events)))))
     (with-temp-file (getenv "OLLAMA_TEST_OUT")
       (insert (json-encode ollama-test--result)))
     (ignore-errors (eglot-shutdown (eglot-current-server)))
     (kill-emacs 0)))

(provide 'emacs_helpers)
;;; emacs_helpers.el ends here
