-- ollama-lsp: nothing starts until you call require("ollama_lsp").setup({...}) from your config,
-- so installing the plugin never launches a server you did not ask for.
if vim.g.loaded_ollama_lsp then
  return
end
vim.g.loaded_ollama_lsp = true
