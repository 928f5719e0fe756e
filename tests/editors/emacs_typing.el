;;; emacs_typing.el --- typing while completing, in batch mode  -*- lexical-binding: t; -*-

;; Run by tests/editors/test_emacs_typing.py: `emacs --batch -l emacs_typing.el'. Point starts at
;; the end of line 5, "    r" (the double's answer is "return 2 * math.pi * radius"). What the
;; user does is $OLLAMA_TEST_CASE, with the key they type in $OLLAMA_TEST_KEY:
;;
;;   complete         M-TAB (`completion-at-point') right there
;;   key-complete     type the key, then M-TAB: a fresh request, as company-mode's capf
;;                    backend makes on every key (it is `no-cache')
;;   session          what a popup that keeps one completion table while you type does
;;                    (corfu; `completion-in-region-mode'): ask the completion functions once,
;;                    list the candidates, type the key, list them again from the same table
;;                    (so from the answer to the old request), and accept the first one the
;;                    way corfu does (replace the typed text with it, then run the
;;                    :exit-function, which applies the item's textEdit)
;;
;; Recorded: the line afterwards and the candidates offered before and after the key.

(load (expand-file-name "emacs_helpers.el" (file-name-directory load-file-name)) nil t)

(defconst ollama-test-row 5)

(defun ollama-test--type (key)
  "Type KEY as a user would: a real `self-insert-command', with its hooks."
  (execute-kbd-macro (kbd key)))

(defun ollama-test--candidates (session)
  "The candidates SESSION's table offers for the text typed since its start, as corfu lists them."
  (pcase-let ((`(,beg ,_end ,table . ,plist) session))
    (let* ((input (buffer-substring-no-properties beg (point)))
           (pred (plist-get plist :predicate))
           (all (completion-all-completions
                 input table pred (length input) (completion-metadata input table pred))))
      (when-let ((last (last all)))
        (setcdr last nil)) ; the base size
      (mapcar #'substring-no-properties all))))

(defun ollama-test--open-session ()
  "Ask the completion functions once, as a popup does when it opens; (BEG END TABLE . PLIST)."
  (pcase-let ((`(,beg ,end ,table . ,plist)
               (run-hook-with-args-until-success 'completion-at-point-functions)))
    ;; completion-in-region keeps END as a marker that follows the typing
    `(,beg ,(copy-marker end t) ,table . ,plist)))

(defun ollama-test--accept (session candidate)
  "Insert CANDIDATE over the text typed since SESSION's start and run its exit function."
  (pcase-let ((`(,beg ,end ,table . ,plist) session))
    ;; Properties (the LSP item) as the table holds them: `all-completions' hands out copies.
    (let ((proxy (or (car (member candidate (all-completions "" table))) candidate)))
      (completion--replace beg end proxy)
      (goto-char (+ beg (length proxy)))
      (when-let ((exit (plist-get plist :exit-function)))
        (funcall exit proxy 'finished)))))

(ollama-test-run
 (ollama-test--start)
 (ollama-test--goto-eol ollama-test-row)
 (let ((case (getenv "OLLAMA_TEST_CASE"))
       (key (getenv "OLLAMA_TEST_KEY")))
   (pcase case
     ("complete"
      (completion-at-point))
     ("key-complete"
      (ollama-test--type key)
      (ollama-test--put 'typed (ollama-test--line ollama-test-row))
      (completion-at-point))
     ("session"
      (let ((session (ollama-test--open-session)))
        (ollama-test--put 'offered (vconcat (ollama-test--candidates session)))
        (ollama-test--type key)
        (ollama-test--put 'typed (ollama-test--line ollama-test-row))
        (let ((offered (ollama-test--candidates session)))
          (ollama-test--put 'offered_after_key (vconcat offered))
          (when offered
            (ollama-test--accept session (car offered))))))
     (_ (error "Unknown OLLAMA_TEST_CASE %S" case))))
 (ollama-test--put 'line (ollama-test--line ollama-test-row))
 (ollama-test--put 'column (current-column))
 (ollama-test--put 'lines (vconcat (split-string (buffer-substring-no-properties
                                                 (point-min) (point-max))
                                                "\n"))))

;;; emacs_typing.el ends here
