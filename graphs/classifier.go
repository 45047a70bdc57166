package graphs

// classifier is torchvision ResNet's avgpool → flatten → fc, with its names (fc.weight,
// fc.bias, unprefixed) and nn.Linear's default initialisation: an ImageNet-supervised
// checkpoint maps onto it one to one.
func classifier(b *Builder, x Tensor, in, classes int) Tensor {
	return b.Linear("fc", b.GlobalPool("avgpool", x), in, classes, true)
}
