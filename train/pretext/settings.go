package pretext

import (
	"encoding/json"
	"fmt"
)

// Settings are what a pretext run records as its task settings (config.json's "task"): a
// resumed run must have the same.
type Settings struct {
	Method string `json:"method"`
	Net    struct {
		Encoder      string  `json:"encoder"`
		Width        float64 `json:"width"`
		OutputStride int     `json:"output_stride"`
		Head         string  `json:"head,omitempty"`
		DecoderWidth int     `json:"decoder_width,omitempty"`
		Features     string  `json:"features,omitempty"` // an imported encoder's dense map (--features)
	} `json:"net"`
	Size   int             `json:"size"`
	Scale  Scale           `json:"scale"`
	Init   string          `json:"init,omitempty"`
	Seed   int64           `json:"seed"`
	Config json.RawMessage `json:"config"` // the method's hyper-parameters (its Config type)
}

// NewSettings describes a method's run.
func NewSettings(method string, o Options, scale Scale, init string, c Config) (Settings, error) {
	s := Settings{Method: method, Size: o.Size, Scale: scale, Init: init, Seed: o.Seed}
	n := o.Net.withDefaults(Decoder(method))
	s.Net.Encoder, s.Net.Width, s.Net.OutputStride = string(n.Encoder), n.Width, n.OutputStride
	if n.DecoderWidth > 0 {
		s.Net.Head, s.Net.DecoderWidth = string(n.Head), n.DecoderWidth
	}
	if n.External != nil {
		s.Net.Encoder, s.Net.Features = "", n.External.Features
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return s, errorf("settings: %w", err)
	}
	s.Config = raw
	return s, nil
}

// MethodConfig reads the recorded hyper-parameters back into the method's Config type.
func (s Settings) MethodConfig() (Config, error) {
	c, err := Defaults(s.Method, s.Scale)
	if err != nil {
		return nil, err
	}
	if len(s.Config) > 0 {
		if err := json.Unmarshal(s.Config, c); err != nil {
			return nil, errorf("settings: %s config %s: %w", s.Method, s.Config, err)
		}
	}
	return c, nil
}

// String is the settings in one line for the start of a run.
func (s Settings) String() string {
	return fmt.Sprintf("%s, %s scale: %s", s.Method, s.Scale, s.Config)
}
