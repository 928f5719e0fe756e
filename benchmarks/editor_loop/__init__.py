"""The editor loop: real code typed into real headless Neovim at human speed, against real
models on real engines, judged by what the user sees.

    python -m benchmarks.editor_loop --models qwen2.5-coder:0.5b,qwen2.5-coder:1.5b \\
        --engines double,llama-server --reaction 100,250 --seeds 2 --llama-vim DIR
    python -m benchmarks.editor_loop --smoke      # ~60 keys, 0.5B, both engines (CI)

- **Text** (``corpus.py``): the code of ``statistics._decimal_sqrt_of_frac`` (after its
  opening comment; ~470 keys) from the running interpreter's standard library, typed back
  into ``statistics.py`` where it was removed.
- **Editor** (``driver.lua``, ``typist.lua``, ``watch.lua``): Neovim 0.12 headless, with
  ``editor-configs/neovim`` (``require("ollama_lsp").setup{...}``) or llama.vim. A Lua typist
  runs inside Neovim's loop (uv timers, ``nvim_input``), seeded lognormal gaps (median ~150
  ms, longer after punctuation and at line ends, sometimes a 1-2.5 s pause to think); every
  timestamp is ``vim.uv.hrtime``. Every 5 ms it reads the ghost the user sees (the plugin's
  ``ghost()``, or the client's extmarks) and logs each change. When the ghost is exactly what
  comes next and has stayed unchanged with no key typed for the reaction time (100 or 250 ms),
  it presses Tab; then it checks the whole buffer against the corpus, counts a wrong one and
  repairs it so the run goes on. **Unhurried** runs wait after each key or accept until no
  request is in flight and the ghost has not changed for 300 ms (at least 400 ms), then
  accept or type on: the same prompts without time pressure.
- **Engines** (``engines.py``): the Ollama double with llama.cpp (our server on Ollama's API)
  and llama.cpp's ``llama-server`` behind a recording proxy (our server with ``api:
  "openai"``; llama.vim on ``/infill``); 1 thread, a fresh engine per session.

Metrics per session (``analysis.py``; the table shows medians over seeds):

- *suggestions shown*: distinct ghosts drawn, a ghost identified by the typed text plus the
  ghost (typing through a ghost keeps it the same suggestion).
- *contradicting ghosts*: distinct ghosts that are not sound. A ghost is sound when it is
  drawn at the cursor over a correct buffer and an answer the client had received before it
  was drawn, for a position at or before the cursor, reads the text typed since that position
  followed by the ghost: it was answered for the text as it is, or for text the user has typed
  through since. An answer to a request older than the text, or a held suggestion minus as
  many characters as were typed when those disagree with it, contradicts.
- *accepts (wrong)*: Tabs, and of them those after which the buffer was not the corpus.
- *accepted chars (%)*: characters inserted by right accepts; % of the text covered.
- *key -> new p50/p95*: from the last key or Tab to the first drawing of a new sound ghost.
- *sound at pauses*: of the pauses >= 1 s between two actions, those ending with a sound
  ghost in view.
- *prompt tok/key*: prompt tokens the engine evaluated (cache hits excluded) per keystroke
  typed by hand: the double's records (counted when evaluation starts), llama-server's
  ``/metrics`` ``prompt_tokens_total`` (prompts whose evaluation finished: a request cancelled
  mid-prompt is not counted, so it reads low).
- *busy %*: of the 100 ms samples taken while typing, those in which the engine was working
  (the double's llama.cpp worker busy; llama-server's ``requests_processing`` > 0). A
  cancelled request's last batch counts: the engine cannot stop mid-batch.
- *max wait*: the longest a foreground request spent, before its first token, beside
  background requests that had arrived before it and were still being worked on by the
  engine (on llama-server until its log says the slot was released, which after a cancel is
  the end of the batch it was in). Background: a one-token request without alternatives (our
  prefill, llama.vim's context update) or a request whose prompt ends past what was typed
  when it arrived, or nowhere in the text (speculation: as if a suggestion were accepted).
- *prefill reuse >= 90 %*: for each run of prefill steps (one-token requests in a row, in
  arrival order, their prompts growing toward the next request's) followed by another
  request, the tokens that request took from the engine's cache over the last step's prompt
  tokens (capped at 100 %; a step cancelled before it answered leaves no numbers, so then the
  last step that answered), by the engine's own numbers: the double's records (prompt tokens
  minus those evaluated), llama-server's answer ``timings`` (``cache_n`` of the slot it chose;
  a stream left before its last event says only with ``return_progress``). Runs are per slot:
  the next request is the next one naming the run's ``id_slot`` (a prefill in our spare slot
  is followed by the requests after it was promoted, not by those the main slot served
  meanwhile; requests naming none are one slot). Shown as the runs reusing >= 90 % of those
  measured, and the median reuse; a run whose next request was cancelled before the engine
  said is not measured, and runs no request followed by the session's end are counted apart.
  Runs in the pause before the first key (the file just opened) count too: the engine is the
  session's own.
- *prefill steps (tok)*: prefill requests, and the prompt tokens they made the engine evaluate:
  what the background work cost (the double counts a step once its evaluation starts;
  llama-server's numbers come with the answer, so a step cancelled before it is not counted).
"""
