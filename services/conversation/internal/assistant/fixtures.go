package assistant

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"sync"
)

// Product is one catalogue entry.
type Product struct {
	SKU        string `json:"sku"`
	Name       string `json:"name"`
	Category   string `json:"category"`
	PriceCents int64  `json:"price_cents"`
	Stock      int    `json:"stock"`
	// Keywords are lower-case phrases, in any of the six languages, that
	// name the product besides its name.
	Keywords []string `json:"keywords"`
}

// Catalogue is a shop's products.
type Catalogue struct {
	Currency string    `json:"currency"`
	Products []Product `json:"products"`
	// Featured is the SKU suggested to a customer the assistant may not
	// personalise for.
	Featured string `json:"featured"`
}

// Order statuses in the orders fixture.
const (
	StatusProcessing = "processing"
	StatusShipped    = "shipped"
	StatusDelivered  = "delivered"
	StatusCancelled  = "cancelled"
)

// Order is one order of the orders fixture. It has no delivery address:
// the assistant never holds one, so it cannot reveal one.
type Order struct {
	Number string `json:"number"`
	// Customer is the account id (the access token's subject) the order
	// belongs to.
	Customer    string   `json:"customer"`
	Status      string   `json:"status"`
	Carrier     string   `json:"carrier,omitempty"`
	ShippedOn   string   `json:"shipped_on,omitempty"`
	DeliveredOn string   `json:"delivered_on,omitempty"`
	Items       []string `json:"items"`
}

// Hours are the opening hours per English day name (monday … sunday);
// an empty value is closed.
type Hours struct {
	Days map[string]string `json:"days"`
}

// Shop is one tenant's fixtures.
type Shop struct {
	Catalogue Catalogue
	Orders    []Order
	Hours     Hours

	mu sync.Mutex
	// returns are the order numbers whose return was started (in memory:
	// the fixture stands in for the shop's order system).
	returns map[string]bool
}

// Fixtures are the shops the built-in assistant knows, by tenant.
type Fixtures struct {
	shops map[string]*Shop
}

// Fixture file names in each tenant's folder.
const (
	catalogueFile = "catalogue.json"
	ordersFile    = "orders.json"
	hoursFile     = "opening_hours.json"
)

var (
	tenantRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	// orderNumberRE is an order number as the fixtures write them, and as
	// a customer types them (the PII engine leaves them as they are).
	orderNumberRE = regexp.MustCompile(`^[0-9]{5,10}$`)
	days          = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
)

// LoadDir reads one folder per tenant under dir (the folder's name is the
// tenant), each with catalogue.json, orders.json and opening_hours.json.
func LoadDir(dir string) (*Fixtures, error) {
	return Load(os.DirFS(dir))
}

// Load reads fixtures from fsys, laid out as LoadDir describes. A file that
// does not parse, an order without a customer, a duplicate order number or
// an unknown day is an error: a shop's assistant should not start on data
// it misreads.
func Load(fsys fs.FS) (*Fixtures, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("fixtures: %w", err)
	}
	f := &Fixtures{shops: map[string]*Shop{}}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if !tenantRE.MatchString(e.Name()) {
			return nil, fmt.Errorf("fixtures: folder %q is not a tenant name", e.Name())
		}
		shop, err := loadShop(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		f.shops[e.Name()] = shop
	}
	if len(f.shops) == 0 {
		return nil, errors.New("fixtures: no tenant folder")
	}
	return f, nil
}

func loadShop(fsys fs.FS, tenant string) (*Shop, error) {
	s := &Shop{returns: map[string]bool{}}
	var orders struct {
		Orders []Order `json:"orders"`
	}
	for name, v := range map[string]any{catalogueFile: &s.Catalogue, ordersFile: &orders, hoursFile: &s.Hours} {
		b, err := fs.ReadFile(fsys, tenant+"/"+name)
		if err != nil {
			return nil, fmt.Errorf("fixtures %s: %w", tenant, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return nil, fmt.Errorf("fixtures %s/%s: %w", tenant, name, err)
		}
	}
	s.Orders = orders.Orders
	seen := map[string]bool{}
	for _, o := range s.Orders {
		switch {
		case !orderNumberRE.MatchString(o.Number):
			return nil, fmt.Errorf("fixtures %s: order number %q is not 5 to 10 digits", tenant, o.Number)
		case seen[o.Number]:
			return nil, fmt.Errorf("fixtures %s: order %s twice", tenant, o.Number)
		case o.Customer == "":
			return nil, fmt.Errorf("fixtures %s: order %s has no customer", tenant, o.Number)
		}
		switch o.Status {
		case StatusProcessing, StatusShipped, StatusDelivered, StatusCancelled:
		default:
			return nil, fmt.Errorf("fixtures %s: order %s has status %q", tenant, o.Number, o.Status)
		}
		seen[o.Number] = true
	}
	for d := range s.Hours.Days {
		known := false
		for _, k := range days {
			known = known || d == k
		}
		if !known {
			return nil, fmt.Errorf("fixtures %s: unknown day %q", tenant, d)
		}
	}
	if s.Catalogue.Currency == "" {
		return nil, fmt.Errorf("fixtures %s: the catalogue has no currency", tenant)
	}
	return s, nil
}

// Shop returns a tenant's fixtures ("" is "default").
func (f *Fixtures) Shop(tenant string) (*Shop, bool) {
	if tenant == "" {
		tenant = "default"
	}
	s, ok := f.shops[tenant]
	return s, ok
}

func (s *Shop) product(sku string) (Product, bool) {
	for _, p := range s.Catalogue.Products {
		if p.SKU == sku {
			return p, true
		}
	}
	return Product{}, false
}
