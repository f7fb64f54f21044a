"""The answer step: from a question's retrieved chunks to a cited extractive answer or a refusal.

The stages, in the order the data flows:

- `units`: a chunk as the answer step reads it: its quotable units (sentences, list items,
  table rows, headings; split as ingest.units split them) and the vectors ingest stored;
- `features`: measure each unit against the question (the hand-set score, the reading
  features, the fitted models' feature lists);
- `model`: the fitted models (ranker, answer classifier, span ranker) and their parameters
  (`model.json`, written by `fit`);
- `span`: which words of the lead passage are the answer (bold);
- `compose`: the best unit first, cut around its answer, with its list or the other part of
  the question, each line cited;
- `refuse`: judge whether the answer holds, and word the honest refusal when it does not.

Beside them: `fit` and `fit_cli` (`hfbot fit`, grouped cross-validation), `evaluate` and
`eval_store` (`hfbot eval` and the store it answers from). bot.answering runs the stages.
"""
