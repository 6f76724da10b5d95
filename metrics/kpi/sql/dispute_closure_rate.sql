-- Dispute closure rate (劳动人事争议结案率), docs/kpi-semantics.md:
-- cases closed in the window / (cases accepted in the window + cases still open at the window's start).
-- One row per case that enters either side. Parameters: $district, $window_start, $window_end.
SELECT district, case_id, closure_method,
       (closed_date BETWEEN $window_start AND $window_end)::INT::DOUBLE AS numerator,
       ((accepted_date BETWEEN $window_start AND $window_end)
        OR (accepted_date < $window_start AND (closed_date IS NULL OR closed_date >= $window_start)))::INT::DOUBLE
         AS denominator
FROM disputes
WHERE district = $district
  AND accepted_date <= $window_end
  AND (closed_date IS NULL OR closed_date >= $window_start)
