"""The answer step: from a question's retrieved chunks to a cited extractive answer or a refusal.

The stages, in the order the data flows:

- `units`: split each chunk into quotable units (sentences, list items, table rows, headings);
- `features`: measure each unit against the question (the hand-set score and the fitted
  models' feature lists);
- `model`: the fitted logistic models and their parameters (`model.json`, written by `fit`);
- `compose`: quote the best units, with their sources, as the answer;
- `refuse`: judge whether the answer holds, and word the honest refusal when it does not.

Beside them: `fit` and `fit_cli` (`hfbot fit`, grouped cross-validation), `evaluate` and
`eval_store` (`hfbot eval` and the store it answers from). bot.answering runs the stages.
"""
