"""The reader's site: `digest site build` (Jekyll, generated topic pages, MathJax assets,
the Pagefind search index) and `digest site serve`."""
