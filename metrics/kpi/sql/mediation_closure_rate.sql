-- Mediation closure rate (调解结案率), docs/kpi-semantics.md: cases closed by 调解 in the window / cases closed in the window.
-- Parameters: $district, $window_start, $window_end.
SELECT district, case_id, closure_method,
       (closure_method = '调解')::INT::DOUBLE AS numerator,
       1.0 AS denominator
FROM disputes
WHERE district = $district
  AND closed_date BETWEEN $window_start AND $window_end
