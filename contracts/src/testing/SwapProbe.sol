// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IERC20Probe {
    function transfer(address to, uint256 amount) external returns (bool);
}

interface IV2PairProbe {
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}

interface IV3PoolProbe {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function liquidity() external view returns (uint128);
    function slot0() external view returns (uint160, int24, uint16, uint16, uint16, uint8, bool);
    function swap(address recipient, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96, bytes calldata data)
        external
        returns (int256, int256);
    function mint(address recipient, int24 tickLower, int24 tickUpper, uint128 amount, bytes calldata data)
        external
        returns (uint256, uint256);
}

/// @notice TEST ONLY: drives pools directly for differential tests of the workbench's AMM math.
/// Pays any pool that calls back from its own balance; never deploy it where it holds value.
contract SwapProbe {
    /// Pays `amountIn` of `tokenIn` to a V2 pair, then asks it for (amount0Out, amount1Out).
    function v2Swap(address pair, address tokenIn, uint256 amountIn, uint256 amount0Out, uint256 amount1Out) external {
        IERC20Probe(tokenIn).transfer(pair, amountIn);
        IV2PairProbe(pair).swap(amount0Out, amount1Out, address(this), "");
    }

    /// Swaps on a V3 pool and reports the pool's deltas and its state afterwards.
    function v3Swap(address pool, bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96)
        external
        returns (int256 amount0, int256 amount1, uint160 sqrtPriceX96, int24 tick, uint128 liquidity)
    {
        (amount0, amount1) = IV3PoolProbe(pool).swap(address(this), zeroForOne, amountSpecified, sqrtPriceLimitX96, "");
        (sqrtPriceX96, tick,,,,,) = IV3PoolProbe(pool).slot0();
        liquidity = IV3PoolProbe(pool).liquidity();
    }

    /// Adds exactly `amount` liquidity over [tickLower, tickUpper) to a V3 pool.
    function v3Mint(address pool, int24 tickLower, int24 tickUpper, uint128 amount) external {
        IV3PoolProbe(pool).mint(address(this), tickLower, tickUpper, amount, "");
    }

    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        _pay(amount0Delta, amount1Delta);
    }

    function uniswapV3MintCallback(uint256 amount0Owed, uint256 amount1Owed, bytes calldata) external {
        _pay(int256(amount0Owed), int256(amount1Owed));
    }

    function _pay(int256 amount0, int256 amount1) internal {
        if (amount0 > 0) IERC20Probe(IV3PoolProbe(msg.sender).token0()).transfer(msg.sender, uint256(amount0));
        if (amount1 > 0) IERC20Probe(IV3PoolProbe(msg.sender).token1()).transfer(msg.sender, uint256(amount1));
    }
}
