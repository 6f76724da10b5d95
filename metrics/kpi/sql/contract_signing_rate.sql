-- Contract signing rate (劳动合同签订率): each enterprise's latest return in the window counts once.
-- numerator = contracts_signed, denominator = employees (docs/kpi-semantics.md).
-- Parameters: $district, $window_start, $window_end.
SELECT district, street, enterprise_id, report_month,
       contracts_signed::DOUBLE AS numerator,
       employees::DOUBLE AS denominator
FROM contract_returns
WHERE district = $district
  AND report_month BETWEEN date_trunc('month', $window_start::DATE)::DATE AND $window_end::DATE
-- Two returns of one enterprise for one month (possible only in data that skipped the upload checks) resolve the
-- same way on every engine: the larger workforce, then the more contracts.
QUALIFY row_number() OVER (PARTITION BY enterprise_id ORDER BY report_month DESC, employees DESC, contracts_signed DESC) = 1
