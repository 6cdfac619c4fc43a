function lgraph = buildNet(numClasses, width)
%BUILDNET A small image classifier, as a MATLAB function file.
%   lgraph = buildNet(numClasses, width) returns the layer graph; netspec
%   calls it with --args "10, 16", or leaves a parameter for --set to bind.
arguments
    numClasses (1,1) {mustBePositive, mustBeInteger}
    width (1,1) {mustBePositive, mustBeInteger} = 16
end
layers = [
    imageInputLayer([32 32 3])
    convBlock(width, 1)
    convBlock(2 * width, 2)
    globalAveragePooling2dLayer
    fullyConnectedLayer(numClasses)
    softmaxLayer
    classificationLayer];
lgraph = layerGraph(layers);

function block = convBlock(filters, index)
% a local function without `end`, as MATLAB allows when no function in the file has one
block = [
    convolution2dLayer(3, filters, 'Padding', 'same', 'Name', "conv" + index)
    batchNormalizationLayer('Name', "bn" + index)
    reluLayer('Name', "relu" + index)
    maxPooling2dLayer(2, 'Stride', 2, 'Name', "pool" + index)];
