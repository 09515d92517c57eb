package postgres

// DueWhere is the relay's claim condition, for the plan test.
const DueWhere = dueWhere
