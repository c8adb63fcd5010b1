// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Minimal, IWETH, IUniswapV2PairMinimal, IUniswapV3PoolMinimal, IUniswapV3FactoryMinimal} from "./Interfaces.sol";

/// @title Executor
/// @notice Owner-only atomic executor for cyclic arbitrage and backruns: runs a sequence of
/// swaps across Uniswap-V2-style pairs (any fee) and Uniswap-V3 pools, funded from its own
/// balance, and reverts unless the profit token's balance grew by at least `minProfit`.
/// Optionally pays `block.coinbase` a share of the profit (the bid) in ETH unwrapped from WETH.
/// It never grants token approvals: every input is paid by a direct transfer.
contract Executor {
    uint8 internal constant KIND_V2 = 0;
    uint8 internal constant KIND_V3 = 1;
    uint16 internal constant BID_DENOMINATOR = 10_000; // bid share in basis points
    uint32 internal constant FEE_DENOMINATOR = 1_000_000; // V2 fee in pips (3000 = 0.30%)
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    /// One hop. `fee` is the V2 pair fee in pips, or the V3 pool's fee tier (checked against
    /// `factory`). `sqrtPriceLimitX96` = 0 means no limit. `minOut` is the hop's minimum output.
    struct Step {
        uint8 kind;
        address pool;
        address tokenIn;
        address tokenOut;
        uint24 fee;
        address factory;
        uint160 sqrtPriceLimitX96;
        uint256 minOut;
    }

    address public immutable owner;
    IWETH public immutable weth;

    /// The V3 pool whose swap callback is expected next, and the token it must be paid in.
    address transient expectedPool;
    address transient expectedTokenIn;

    error NotOwner();
    error EmptyPath();
    error BrokenPath(uint256 step);
    error UnknownStepKind(uint256 step, uint8 kind);
    error NotAFactoryPool(address pool, address factory);
    error UnexpectedCallback(address caller);
    error HopOutputTooLow(uint256 step, uint256 amountOut, uint256 minOut);
    error Unprofitable(uint256 balanceBefore, uint256 balanceAfter, uint256 minProfit);
    error BidNeedsWethProfit(address profitToken);
    error BidTooHigh(uint16 bidBps);
    error AmountTooLarge(uint256 amount);
    error TransferFailed(address token, address to, uint256 amount);
    error EthTransferFailed(address to, uint256 amount);

    constructor(address weth_) {
        owner = msg.sender;
        weth = IWETH(weth_);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    receive() external payable {}

    /// @notice Runs `steps` starting with `amountIn` of the first step's input token.
    /// @return profit growth of the executor's `profitToken` balance before the bid
    /// @return bid wei paid to `block.coinbase` (profit * bidBps / 10_000, profit token must be WETH)
    function execute(address profitToken, uint256 amountIn, uint256 minProfit, uint16 bidBps, Step[] calldata steps)
        external
        onlyOwner
        returns (uint256 profit, uint256 bid)
    {
        uint256 n = steps.length;
        if (n == 0) revert EmptyPath();
        if (bidBps > BID_DENOMINATOR) revert BidTooHigh(bidBps);
        uint256 balanceBefore = IERC20Minimal(profitToken).balanceOf(address(this));

        uint256 amount = amountIn;
        for (uint256 i = 0; i < n; ++i) {
            Step calldata s = steps[i];
            if (i > 0 && steps[i - 1].tokenOut != s.tokenIn) revert BrokenPath(i);
            // Output goes straight to the next V2 pair (it is paid by balance), else to us.
            address recipient = (i + 1 < n && steps[i + 1].kind == KIND_V2) ? steps[i + 1].pool : address(this);
            if (s.kind == KIND_V2) {
                amount = _swapV2(s, amount, i == 0, recipient);
            } else if (s.kind == KIND_V3) {
                amount = _swapV3(s, amount, recipient);
            } else {
                revert UnknownStepKind(i, s.kind);
            }
            if (amount < s.minOut) revert HopOutputTooLow(i, amount, s.minOut);
        }

        uint256 balanceAfter = IERC20Minimal(profitToken).balanceOf(address(this));
        if (balanceAfter < balanceBefore + minProfit) revert Unprofitable(balanceBefore, balanceAfter, minProfit);
        profit = balanceAfter - balanceBefore;
        if (bidBps > 0) {
            if (profitToken != address(weth)) revert BidNeedsWethProfit(profitToken);
            bid = profit * bidBps / BID_DENOMINATOR;
            if (bid > 0) {
                weth.withdraw(bid);
                (bool ok,) = block.coinbase.call{value: bid}("");
                if (!ok) revert EthTransferFailed(block.coinbase, bid);
            }
        }
    }

    /// V2 hop: the pair is paid first (by us on the first hop; later hops were paid by the
    /// previous hop sending its output here), then the output
    /// is computed from the pair's reserves and its actual token balance (fee-on-transfer safe).
    function _swapV2(Step calldata s, uint256 amount, bool payFromHere, address recipient) internal returns (uint256) {
        if (payFromHere) _transfer(s.tokenIn, s.pool, amount);
        bool zeroForOne = s.tokenIn < s.tokenOut;
        uint256 amountOut = _v2AmountOut(s, zeroForOne);
        (uint256 out0, uint256 out1) = zeroForOne ? (uint256(0), amountOut) : (amountOut, uint256(0));
        IUniswapV2PairMinimal(s.pool).swap(out0, out1, recipient, "");
        return amountOut;
    }

    function _v2AmountOut(Step calldata s, bool zeroForOne) internal view returns (uint256) {
        (uint112 r0, uint112 r1,) = IUniswapV2PairMinimal(s.pool).getReserves();
        (uint256 reserveIn, uint256 reserveOut) = zeroForOne ? (uint256(r0), uint256(r1)) : (uint256(r1), uint256(r0));
        uint256 amountInWithFee = (IERC20Minimal(s.tokenIn).balanceOf(s.pool) - reserveIn) * (FEE_DENOMINATOR - s.fee);
        return amountInWithFee * reserveOut / (reserveIn * FEE_DENOMINATOR + amountInWithFee);
    }

    /// V3 hop: exact input; the pool must be the factory's pool for (tokenIn, tokenOut, fee).
    function _swapV3(Step calldata s, uint256 amount, address recipient) internal returns (uint256) {
        if (IUniswapV3FactoryMinimal(s.factory).getPool(s.tokenIn, s.tokenOut, s.fee) != s.pool) {
            revert NotAFactoryPool(s.pool, s.factory);
        }
        if (amount > uint256(type(int256).max)) revert AmountTooLarge(amount);
        bool zeroForOne = s.tokenIn < s.tokenOut;
        uint160 limit = s.sqrtPriceLimitX96;
        if (limit == 0) limit = zeroForOne ? MIN_SQRT_RATIO_PLUS_ONE : MAX_SQRT_RATIO_MINUS_ONE;
        expectedPool = s.pool;
        expectedTokenIn = s.tokenIn;
        (int256 d0, int256 d1) =
            IUniswapV3PoolMinimal(s.pool).swap(recipient, zeroForOne, int256(amount), limit, "");
        return uint256(-(zeroForOne ? d1 : d0));
    }

    /// Pays a V3 pool what it is owed; only the pool this contract is swapping on may call.
    function uniswapV3SwapCallback(int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        if (msg.sender != expectedPool || msg.sender == address(0)) revert UnexpectedCallback(msg.sender);
        expectedPool = address(0);
        uint256 owed = uint256(amount0Delta > 0 ? amount0Delta : amount1Delta);
        _transfer(expectedTokenIn, msg.sender, owed);
    }

    function withdraw(address token, address to, uint256 amount) external onlyOwner {
        _transfer(token, to, amount);
    }

    function withdrawETH(address payable to, uint256 amount) external onlyOwner {
        (bool ok,) = to.call{value: amount}("");
        if (!ok) revert EthTransferFailed(to, amount);
    }

    function _transfer(address token, address to, uint256 amount) internal {
        (bool ok, bytes memory ret) = token.call(abi.encodeCall(IERC20Minimal.transfer, (to, amount)));
        if (!ok || (ret.length != 0 && !abi.decode(ret, (bool)))) revert TransferFailed(token, to, amount);
    }
}
