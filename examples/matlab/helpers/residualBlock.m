function [lgraph, out] = residualBlock(lgraph, in, index, filters)
%RESIDUALBLOCK Two 3x3 convolutions and a shortcut, added after the input `in`.
name = "res" + index;
branch = [
    convolution2dLayer(3, filters, 'Padding', 'same', 'Name', name + "_conv1")
    batchNormalizationLayer('Name', name + "_bn1")
    reluLayer('Name', name + "_relu1")
    convolution2dLayer(3, filters, 'Padding', 'same', 'Name', name + "_conv2")
    batchNormalizationLayer('Name', name + "_bn2")
    additionLayer(2, 'Name', name + "_add")
    reluLayer('Name', name + "_out")];
lgraph = addLayers(lgraph, branch);
lgraph = connectLayers(lgraph, in, name + "_conv1");
shortcut = convolution2dLayer(1, filters, 'Name', name + "_skip");
lgraph = addLayers(lgraph, shortcut);
lgraph = connectLayers(lgraph, in, name + "_skip");
lgraph = connectLayers(lgraph, name + "_skip", name + "_add/in2");
out = name + "_out";
end
