package store

import (
	"context"

	"github.com/waorders/waorders"
)

// Reports summarises orders: per customer and per campaign.
type Reports interface {
	// GetCustomer summarises a customer's orders (CodeNotFound if none).
	GetCustomer(ctx context.Context, waID string) (*waorders.CustomerSummary, error)
	// CampaignReport groups orders by a campaign reference.
	CampaignReport(ctx context.Context, p CampaignReportParams) ([]waorders.CampaignRow, error)
}
