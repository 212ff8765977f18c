-- As SQLite's 0010: scorecards count the remedies recorded in customer cases (`Store::remedy_counts`). Few
-- cases record one; this partial index holds just those, by opening time, and the query repeats its WHERE.
CREATE INDEX cases_with_remedies ON cases (opened_at)
    WHERE kind = 'customer' AND jsonb_typeof(data::jsonb #> '{case,remedies}') = 'array'
      AND data::jsonb #> '{case,remedies}' <> '[]'::jsonb;
