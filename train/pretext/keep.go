package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/train"
)

// The nodes each method reads after a pass (its Monitors, CP2's AfterStep): the memory plan
// keeps their values (train.Keeper). nodeValues refuses a node the plan let later nodes
// overwrite, so a node missing here is an error, not a wrong monitor.

var (
	_ train.Keeper = (*MoCo)(nil)
	_ train.Keeper = (*SimCLR)(nil)
	_ train.Keeper = (*BYOL)(nil)
	_ train.Keeper = (*SimSiam)(nil)
	_ train.Keeper = (*PLR)(nil)
	_ train.Keeper = (*PLMoCo)(nil)
	_ train.Keeper = (*DenseCL)(nil)
	_ train.Keeper = (*PixPro)(nil)
	_ train.Keeper = (*CP2)(nil)
)

func (m *MoCo) KeepNodes() G.Nodes    { return G.Nodes{m.logits} }
func (m *SimCLR) KeepNodes() G.Nodes  { return G.Nodes{m.logits} }
func (m *BYOL) KeepNodes() G.Nodes    { return G.Nodes{m.z1} }
func (m *SimSiam) KeepNodes() G.Nodes { return G.Nodes{m.z1} }
func (m *PLR) KeepNodes() G.Nodes     { return G.Nodes{m.logits} }
func (m *PLMoCo) KeepNodes() G.Nodes  { return G.Nodes{m.denseLogits, m.globalLogits} }
func (m *DenseCL) KeepNodes() G.Nodes { return G.Nodes{m.glogits, m.dlogits} }
func (m *PixPro) KeepNodes() G.Nodes  { return G.Nodes{m.y1, m.t2, m.x1} }
func (m *CP2) KeepNodes() G.Nodes     { return G.Nodes{m.l.insLogits, m.l.denseLogits, m.l.kpos} }
