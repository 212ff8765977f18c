-- Scorecards count the remedies recorded in customer cases (`earshot report`, `/dashboard`). Few cases
-- record one, and reading every case's JSON to find them took 14.5 s over 1M cases; this partial index
-- holds just those cases, by opening time. `Store::remedy_counts` repeats the WHERE clause so SQLite uses it.
CREATE INDEX cases_with_remedies ON cases (opened_at)
    WHERE kind = 'customer' AND json_array_length(data, '$.case.remedies') > 0;
